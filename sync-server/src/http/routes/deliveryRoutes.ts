import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
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

  // The one-click unsubscribe of every digest (RFC 8058): the signed link is the credential.
  void app.register(async (scope) => {
    // Mail clients POST `List-Unsubscribe=One-Click` as a form; nothing in it is needed.
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, _body, done) => done(null, undefined));
    scope.post('/api/email/unsubscribe/:token', async (request) => {
      const { token } = validate(UnsubscribeParams, request.params, 'params');
      const userId = await deps.delivery.unsubscribe(token);
      if (userId === null) throw ApiError.forbidden('this unsubscribe link is not valid');
      return { unsubscribed: true, email: false };
    });
    // A GET (a link scanner, a person clicking) changes nothing: it shows the button that POSTs.
    scope.get('/api/email/unsubscribe/:token', async (request, reply) => {
      const { token } = validate(UnsubscribeParams, request.params, 'params');
      return reply
        .type('text/html; charset=utf-8')
        .header('content-security-policy', "default-src 'none'; form-action 'self'")
        .send(
          `<!doctype html><title>Unsubscribe</title><form method="post" action="/api/email/unsubscribe/${encodeURIComponent(token)}">` +
            '<input type="hidden" name="List-Unsubscribe" value="One-Click"><p>Stop Parley emails?</p><button>Unsubscribe</button></form>',
        );
    });
  });
}

const UnsubscribeParams = z.strictObject({ token: z.string().min(3).max(300).regex(/^[A-Za-z0-9_.-]+$/) });
