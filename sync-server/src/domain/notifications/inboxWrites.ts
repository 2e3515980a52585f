import * as Y from 'yjs';
import { inboxParts, isUnread, notificationToJSON, type ConversationSummary, type Notification, type NotificationData } from '@parley/schema';

export interface NewNotification {
  id: string;
  kind: string;
  title: string;
  body: string;
  data: NotificationData;
  count?: number;
}

/** Adds a notification unless one with the id exists (so replays change nothing). Returns whether it was added. */
export function addNotification(doc: Y.Doc, n: NewNotification, now: number): boolean {
  const notifications = inboxParts(doc).notifications;
  if (notifications.has(n.id)) return false;
  const map = new Y.Map<unknown>();
  const fields: Record<string, unknown> = {
    id: n.id,
    kind: n.kind,
    title: n.title,
    body: n.body,
    createdAt: now,
    updatedAt: now,
    count: n.count ?? 1,
    data: n.data,
    readAt: null,
    seenAt: null,
    archivedAt: null,
  };
  for (const [key, value] of Object.entries(fields)) map.set(key, value);
  notifications.set(n.id, map);
  return true;
}

/** Puts a notification back into the inbox document as it was (from the archive); a copy already there is kept. */
export function restoreNotification(doc: Y.Doc, n: Notification): boolean {
  const notifications = inboxParts(doc).notifications;
  if (notifications.has(n.id)) return false;
  const map = new Y.Map<unknown>();
  for (const [key, value] of Object.entries(n)) map.set(key, value);
  notifications.set(n.id, map);
  return true;
}

/** Sets fields that differ; returns whether anything changed. */
export function patchNotification(doc: Y.Doc, id: string, fields: Partial<Record<keyof Notification, unknown>>): boolean {
  const map = inboxParts(doc).notifications.get(id);
  if (!(map instanceof Y.Map)) return false;
  let changed = false;
  for (const [key, value] of Object.entries(fields)) {
    if (JSON.stringify(map.get(key)) !== JSON.stringify(value)) {
      map.set(key, value);
      changed = true;
    }
  }
  return changed;
}

/** Notifications that quote a message of a conversation, and whose quote follows its edits and deletion. */
export const QUOTING_KINDS: ReadonlySet<string> = new Set(['new_message', 'mention']);

/**
 * A conversation's chat notifications that matter to the notifier: the open
 * one (unread, unarchived), whether the user was already told about
 * `messageId` (a notification about it exists, open or dismissed, a mention
 * included), and all of them with their mentions (their quotes follow edits
 * and deletions).
 */
export function chatNotifications(doc: Y.Doc, conversationId: string, messageId: string | null): { open: Notification | null; toldAbout: boolean; all: Notification[] } {
  let open: Notification | null = null;
  let toldAbout = false;
  const all: Notification[] = [];
  inboxParts(doc).notifications.forEach((map) => {
    if (!(map instanceof Y.Map) || !QUOTING_KINDS.has(map.get('kind') as string)) return;
    const n = notificationToJSON(map);
    if (n.data.conversationId !== conversationId) return;
    all.push(n);
    // A mention of the newest message told the user about it already (issue 14): no second notification for it.
    if (messageId !== null && n.data.messageId === messageId) toldAbout = true;
    if (n.kind !== 'new_message') return;
    if (!open && isUnread(n)) open = n;
  });
  return { open, toldAbout, all };
}


export function setConversationSummary(doc: Y.Doc, conversationId: string, summary: ConversationSummary | null): boolean {
  const conversations = inboxParts(doc).conversations;
  if (summary === null) {
    if (!conversations.has(conversationId)) return false;
    conversations.delete(conversationId);
    return true;
  }
  if (JSON.stringify(conversations.get(conversationId)) === JSON.stringify(summary)) return false;
  conversations.set(conversationId, summary);
  return true;
}
