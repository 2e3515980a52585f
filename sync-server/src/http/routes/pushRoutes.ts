import type { FastifyInstance } from 'fastify';
import { PushSubscriptionBody, PushUnsubscribeBody } from '@parley/schema';
import { ApiError } from '../ApiError';
import { authenticate } from '../authenticate';
import { validate } from '../validate';
import type { RouteDeps } from './RouteDeps';

/** Web Push subscriptions of the caller's devices (stored; see the README on delivery). */
export function pushRoutes(app: FastifyInstance, deps: RouteDeps): void {
  app.post('/api/push/subscriptions', async (request, reply) => {
    const caller = await authenticate(deps.verifier, request);
    const body = validate(PushSubscriptionBody, request.body);
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
