import type { FastifyInstance } from 'fastify';
import { SearchQuery } from '@parley/schema';
import { authenticate } from '../authenticate';
import { validate } from '../validate';
import type { RouteDeps } from './RouteDeps';

export function searchRoutes(app: FastifyInstance, deps: RouteDeps): void {
  app.get('/api/search', async (request) => {
    const caller = await authenticate(deps.verifier, request);
    return deps.search.search(caller, validate(SearchQuery, request.query, 'query'));
  });
}
