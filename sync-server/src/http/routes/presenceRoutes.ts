import type { FastifyInstance } from 'fastify';
import { PresenceQuery } from '@parley/schema';
import { authenticate } from '../authenticate';
import { validate } from '../validate';
import type { RouteDeps } from './RouteDeps';

export function presenceRoutes(app: FastifyInstance, deps: RouteDeps): void {
  app.get('/api/presence', async (request) => {
    const caller = await authenticate(deps.verifier, request);
    const { users } = validate(PresenceQuery, request.query, 'query');
    return deps.presence.of(caller, users);
  });
}
