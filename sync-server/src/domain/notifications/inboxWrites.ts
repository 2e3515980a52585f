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

/** The unread, unarchived chat notification of a conversation, if any. */
export function openChatNotification(doc: Y.Doc, conversationId: string): Notification | null {
  let found: Notification | null = null;
  inboxParts(doc).notifications.forEach((map) => {
    if (found || !(map instanceof Y.Map) || map.get('kind') !== 'new_message') return;
    const n = notificationToJSON(map);
    if (n.data.conversationId === conversationId && isUnread(n)) found = n;
  });
  return found;
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
