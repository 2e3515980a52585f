import type { FastifyInstance } from 'fastify';
import { SearchQuery } from '@parley/schema';
import { authenticate } from '../authenticate';
import { validate } from '../validate';
import type { RouteDeps } from './RouteDeps';
import { timed } from '../serverTiming';

export function searchRoutes(app: FastifyInstance, deps: RouteDeps): void {
  app.get('/api/search', async (request, reply) => {
    const caller = await authenticate(deps.verifier, request);
    const query = validate(SearchQuery, request.query, 'query');
    return timed(reply, 'search', () => deps.search.search(caller, query));
  });
}
