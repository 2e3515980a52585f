import type { FastifyInstance } from 'fastify';
import { DEFAULTS, PushSubscriptionBody, PushUnsubscribeBody } from '@parley/schema';
import { ApiError } from '../ApiError';
import { authenticate } from '../authenticate';
import { validate } from '../validate';
import { pushEndpointAllowed, pushKeysError } from '../pushEndpointPolicy';
import type { RouteDeps } from './RouteDeps';

/** Web Push subscriptions of the caller's devices (stored; see the README on delivery). */
export function pushRoutes(app: FastifyInstance, deps: RouteDeps): void {
  app.post('/api/push/subscriptions', async (request, reply) => {
    const caller = await authenticate(deps.verifier, request);
    const body = validate(PushSubscriptionBody, request.body);
    if (!pushEndpointAllowed(body.endpoint, deps.config.pushEndpointHosts)) {
      throw ApiError.badRequest(`endpoint: must be an https: URL on a push service (${deps.config.pushEndpointHosts.join(', ')})`);
    }
    const keysError = pushKeysError(body.keys);
    if (keysError) throw ApiError.badRequest(keysError);
    // A device that re-subscribes leaves its old endpoint behind: past the cap the oldest goes.
    const existing = await deps.storage.push.list(caller.userId);
    if (!existing.some((s) => s.endpoint === body.endpoint)) {
      for (const stale of existing.slice(0, Math.max(0, existing.length - DEFAULTS.pushSubscriptionsMaxPerUser + 1))) await deps.storage.push.remove(caller.userId, stale.endpoint);
    }
    await deps.storage.push.add(caller.userId, { endpoint: body.endpoint, keys: body.keys });
    return reply.status(201).send({ endpoint: body.endpoint });
  });

  app.delete('/api/push/subscriptions', async (request) => {
    const caller = await authenticate(deps.verifier, request);
    const body = validate(PushUnsubscribeBody, request.body);
    if (!(await deps.storage.push.remove(caller.userId, body.endpoint))) throw ApiError.notFound('no such subscription');
    return { removed: true };
  });
}
