import type { FastifyInstance } from 'fastify';
import { ContactBody, UserIdParams, isAdmin, isService } from '@parley/schema';
import { ApiError } from '../ApiError';
import { authenticate } from '../authenticate';
import { validate } from '../validate';
import type { RouteDeps } from './RouteDeps';

/** Delivery beyond the app (CONTRACT 4 and 7): the VAPID key for subscribing, and where email and SMS go. */
export function deliveryRoutes(app: FastifyInstance, deps: RouteDeps): void {
  app.get('/api/push/vapid-public-key', async (request) => {
    await authenticate(deps.verifier, request);
    const key = deps.delivery.vapidPublicKey;
    if (!key) throw ApiError.notFound('push is off on this server (no VAPID keys configured)');
    return { key };
  });

  app.put('/api/users/:id/contact', async (request) => {
    const caller = await authenticate(deps.verifier, request);
    if (!isAdmin(caller) && !isService(caller)) throw ApiError.forbidden('service or admin only');
    const { id } = validate(UserIdParams, request.params, 'params');
    const body = validate(ContactBody, request.body);
    await deps.storage.users.setContact(id, body);
    return { id, contact: await deps.storage.users.contact(id) };
  });
}
