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
  type Notification,
  type NotificationsPage,
  type OwnerNotificationField,
  type PreferencesBody,
  type Prefs,
} from '@parley/schema';
import { ApiError } from '../../http/ApiError';
import type { ServerWriter } from '../../sync/ServerWriter';
import type { MessageIndex, NotificationArchive } from '../../storage/Storage';
import { QUOTING_KINDS, restoreNotification } from './inboxWrites';
import { currentQuotes, requotedBody } from './quotingNotifications';

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

/** Newest first: by last server change, then id, both descending (as listNotifications sorts). */
const newerFirst = (a: Notification, b: Notification) => b.updatedAt - a.updatedAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

/**
 * The notifications API. Changes go through the caller's inbox document, so
 * their open clients see each change at once. Settled notifications the
 * clean-up moved out of the document (issue 9) are in the archive: pages
 * merge both, and the unread ones are all in the document.
 */
export class Notifications {
  constructor(
    private readonly writer: ServerWriter,
    private readonly stores: { notificationArchive: NotificationArchive; messages: MessageIndex },
  ) {}

  async list(caller: Identity, options: ListOptions): Promise<NotificationsPage> {
    const after = options.cursor ? parseCursor(options.cursor) : null;
    const wanted = (n: Notification) =>
      (options.includeArchived || n.archivedAt === null) &&
      (!options.unreadOnly || isUnread(n)) &&
      (after === null || n.updatedAt < after.updatedAt || (n.updatedAt === after.updatedAt && n.id < after.id));
    const live = (await this.writer.read(inboxDocName(caller.userId), listNotifications)).filter(wanted);
    // The archive holds no unread notification: an unread page needs the document alone.
    const archived = options.unreadOnly
      ? []
      : await this.stores.notificationArchive.page(caller.userId, { after, limit: options.limit + 1, includeArchived: options.includeArchived });
    // A crash between archiving and removing leaves a copy in both: the document's counts.
    const inDocument = new Set(live.map((n) => n.id));
    const items = [...live, ...(await this.currentQuotes(archived.filter((n) => !inDocument.has(n.id))))].sort(newerFirst);
    const page = items.slice(0, options.limit);
    return { notifications: page, nextCursor: items.length > options.limit ? cursorOf(page[page.length - 1]!) : null };
  }

  /**
   * Archived chat and mention notifications quote their message as it is now
   * (an edit shows, a deletion hides the text), read from the message index:
   * the ChatNotifier rewrites the quotes in the document only (the erasure
   * job rewrites archived ones after a deletion).
   */
  private async currentQuotes(archived: Notification[]): Promise<Notification[]> {
    return Promise.all(
      archived.map(async (n) => {
        const { conversationId, messageId } = n.data as { conversationId?: unknown; messageId?: unknown };
        if (!QUOTING_KINDS.has(n.kind) || typeof conversationId !== 'string') return n;
        const body = requotedBody(n, await currentQuotes(this.stores.messages, conversationId, [messageId]));
        return body === null ? n : { ...n, body };
      }),
    );
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
    if (!found && !(await this.setArchived(caller.userId, id, field, value))) throw ApiError.notFound(`no notification ${id}`);
  }

  /**
   * The same change on a notification in the archive. One that becomes
   * unread again goes back into the inbox document (added there before it
   * leaves the archive), so the bell and the unread count see it.
   */
  private async setArchived(userId: string, id: string, field: OwnerNotificationField, value: number | null): Promise<boolean> {
    const archive = this.stores.notificationArchive;
    const stored = await archive.get(userId, id);
    if (!stored) return false;
    if (stored[field] === value || (value !== null && stored[field] !== null)) return true;
    const changed: Notification = { ...stored, [field]: value };
    if (!isUnread(changed)) {
      await archive.put(userId, [changed]);
      return true;
    }
    await this.writer.write(inboxDocName(userId), (doc) => restoreNotification(doc, changed));
    await archive.remove(userId, [id]);
    return true;
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

