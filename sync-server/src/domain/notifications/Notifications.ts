import {
  inboxDocName,
  inboxParts,
  isUnread,
  listNotifications,
  markAllRead,
  readPrefs,
  setChannels,
  setMuted,
  setQuietHours,
  setNotificationField,
  type Identity,
  type NotificationsPage,
  type OwnerNotificationField,
  type PreferencesBody,
  type Prefs,
} from '@parley/schema';
import { ApiError } from '../../http/ApiError';
import type { ServerWriter } from '../../sync/ServerWriter';

export interface ListOptions {
  unreadOnly: boolean;
  includeArchived: boolean;
  limit: number;
  cursor?: string;
}

/** `<updatedAt>.<id>` of the last item of a page; the next page starts after it. */
const cursorOf = (n: { updatedAt: number; id: string }) => Buffer.from(`${n.updatedAt}\n${n.id}`).toString('base64url');

function parseCursor(cursor: string): { updatedAt: number; id: string } {
  const [at, ...rest] = Buffer.from(cursor, 'base64url').toString().split('\n');
  const updatedAt = Number(at);
  if (!Number.isFinite(updatedAt) || rest.length === 0) throw ApiError.badRequest('cursor: not a cursor this API gave out');
  return { updatedAt, id: rest.join('\n') };
}

/**
 * The notifications API. Everything goes through the caller's inbox
 * document, so their open clients see each change at once.
 */
export class Notifications {
  constructor(private readonly writer: ServerWriter) {}

  async list(caller: Identity, options: ListOptions): Promise<NotificationsPage> {
    const all = await this.writer.read(inboxDocName(caller.userId), listNotifications);
    let items = all.filter((n) => (options.includeArchived || n.archivedAt === null) && (!options.unreadOnly || isUnread(n)));
    if (options.cursor) {
      const after = parseCursor(options.cursor);
      items = items.filter((n) => n.updatedAt < after.updatedAt || (n.updatedAt === after.updatedAt && n.id < after.id));
    }
    const page = items.slice(0, options.limit);
    return { notifications: page, nextCursor: items.length > options.limit ? cursorOf(page[page.length - 1]!) : null };
  }

  async unreadCount(caller: Identity): Promise<number> {
    return this.writer.read(inboxDocName(caller.userId), (doc) => listNotifications(doc).filter(isUnread).length);
  }

  async set(caller: Identity, id: string, field: OwnerNotificationField, value: number | null): Promise<void> {
    const found = await this.writer.write(inboxDocName(caller.userId), (doc) => {
      const map = inboxParts(doc).notifications.get(id);
      if (!map) return false;
      if (map.get(field) === value || (value !== null && map.get(field) !== null && map.get(field) !== undefined)) return true;
      return setNotificationField(doc, id, field, value);
    });
    if (!found) throw ApiError.notFound(`no notification ${id}`);
  }

  async readAll(caller: Identity): Promise<number> {
    return this.writer.write(inboxDocName(caller.userId), (doc) => markAllRead(doc));
  }

  async preferences(caller: Identity): Promise<Prefs> {
    return this.writer.read(inboxDocName(caller.userId), readPrefs);
  }

  async updatePreferences(caller: Identity, body: PreferencesBody): Promise<Prefs> {
    return this.writer.write(inboxDocName(caller.userId), (doc) => {
      for (const [kind, channels] of Object.entries(body.channels ?? {})) setChannels(doc, kind, channels);
      for (const [conversationId, until] of Object.entries(body.muted ?? {})) setMuted(doc, conversationId, until);
      if (body.quietHours !== undefined) setQuietHours(doc, body.quietHours);
      return readPrefs(doc);
    });
  }
}

