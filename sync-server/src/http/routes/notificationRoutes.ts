import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { DEFAULTS, NotificationsQuery, PreferencesBody, type OwnerNotificationField } from '@parley/schema';
import { authenticate } from '../authenticate';
import { validate } from '../validate';
import type { RouteDeps } from './RouteDeps';

const NotificationParams = z.strictObject({ id: z.string().min(1).max(300) });
const truthy = (v: string | undefined) => v === '1' || v === 'true';

/** Marking actions: which owner field each sets, and to what. */
const ACTIONS: Record<string, { field: OwnerNotificationField; value: 'now' | null }> = {
  read: { field: 'readAt', value: 'now' },
  unread: { field: 'readAt', value: null },
  seen: { field: 'seenAt', value: 'now' },
  archive: { field: 'archivedAt', value: 'now' },
  unarchive: { field: 'archivedAt', value: null },
};

export function notificationRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { verifier, notifications } = deps;

  app.get('/api/notifications', async (request) => {
    const caller = await authenticate(verifier, request);
    const query = validate(NotificationsQuery, request.query, 'query');
    return notifications.list(caller, {
      unreadOnly: truthy(query.unread),
      includeArchived: truthy(query.archived),
      limit: query.limit ?? DEFAULTS.notificationsPageDefault,
      cursor: query.cursor,
    });
  });

  app.get('/api/notifications/unread-count', async (request) => {
    const caller = await authenticate(verifier, request);
    return { count: await notifications.unreadCount(caller) };
  });

  app.post('/api/notifications/read-all', async (request) => {
    const caller = await authenticate(verifier, request);
    return { updated: await notifications.readAll(caller) };
  });

  app.get('/api/notifications/preferences', async (request) => {
    const caller = await authenticate(verifier, request);
    return notifications.preferences(caller);
  });

  app.put('/api/notifications/preferences', async (request) => {
    const caller = await authenticate(verifier, request);
    const body = validate(PreferencesBody, request.body);
    return notifications.updatePreferences(caller, body);
  });

  for (const [action, { field, value }] of Object.entries(ACTIONS)) {
    app.post(`/api/notifications/:id/${action}`, async (request) => {
      const caller = await authenticate(verifier, request);
      const { id } = validate(NotificationParams, request.params, 'params');
      await notifications.set(caller, id, field, value === 'now' ? Date.now() : null);
      return { id, [field]: value === 'now' ? 'set' : null, ok: true };
    });
  }
}
