import * as Y from 'yjs';
import { z } from 'zod';
import { EntityRef } from './conversation';

/** Root keys of an `inbox:<userId>` document. */
export const InboxKeys = {
  notifications: 'notifications',
  conversations: 'conversations',
  prefs: 'prefs',
} as const;

/** Keys under `prefs`; each holds a nested map the server creates once. */
export const PrefsKeys = { channels: 'channels', muted: 'muted' } as const;
/** `prefs.quietHours`: a plain value the owner sets (or null), not a nested map. */
export const QUIET_HOURS_KEY = 'quietHours';

/** The only notification fields the inbox owner may write. */
export const OwnerNotificationFields = ['readAt', 'seenAt', 'archivedAt'] as const;
export type OwnerNotificationField = (typeof OwnerNotificationFields)[number];

export const NotificationData = z.object({
  url: z.string().optional(),
  conversationId: z.string().optional(),
  entity: EntityRef.optional(),
  actor: z.string().optional(),
});
export type NotificationData = z.infer<typeof NotificationData> & Record<string, unknown>;

export interface Notification {
  id: string;
  kind: string;
  title: string;
  body: string;
  createdAt: number;
  /** Last time the server changed it (a coalesced chat notification moves forward). */
  updatedAt: number;
  /** How many causes it stands for: messages coalesced into one chat notification. */
  count: number;
  data: NotificationData;
  readAt: number | null;
  seenAt: number | null;
  archivedAt: number | null;
}

export interface ConversationSummary {
  title: string;
  lastMessage: { author: string; text: string; at: number } | null;
  unread: number;
}

/**
 * A kind's channels as written (CONTRACT 7). `sms` came later: a value
 * written without it (older clients) is still valid and means SMS off.
 */
export const Channels = z.strictObject({ inApp: z.boolean(), push: z.boolean(), email: z.boolean(), sms: z.boolean().optional() });
export type ChannelsInput = z.infer<typeof Channels>;
export type Channels = Required<ChannelsInput>;

/** CONTRACT 7: in-app, push and email on, SMS off. */
export const DEFAULT_CHANNELS: Channels = { inApp: true, push: true, email: true, sms: false };

const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;
/** Whether Intl knows the zone (an IANA name such as `Europe/Paris`). */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
/** `prefs.quietHours`: push, SMS and the email digest wait for its end; `start` after `end` spans midnight. */
export const QuietHours = z.strictObject({
  start: z.string().regex(HHMM, 'must be HH:MM (00:00 to 23:59)'),
  end: z.string().regex(HHMM, 'must be HH:MM (00:00 to 23:59)'),
  tz: z.string().min(1).max(64).refine(isTimeZone, 'must be an IANA time zone such as Europe/Paris'),
});
export type QuietHours = z.infer<typeof QuietHours>;

export interface Prefs {
  channels: Record<string, ChannelsInput>;
  muted: Record<string, number>;
  quietHours: QuietHours | null;
}

export const inboxParts = (doc: Y.Doc) => ({
  notifications: doc.getMap<Y.Map<unknown>>(InboxKeys.notifications),
  conversations: doc.getMap<ConversationSummary>(InboxKeys.conversations),
  prefs: doc.getMap<Y.Map<unknown>>(InboxKeys.prefs),
});

export function notificationToJSON(map: Y.Map<unknown>): Notification {
  const j = map.toJSON() as Partial<Notification>;
  return {
    id: String(j.id ?? ''),
    kind: String(j.kind ?? ''),
    title: String(j.title ?? ''),
    body: String(j.body ?? ''),
    createdAt: Number(j.createdAt ?? 0),
    updatedAt: Number(j.updatedAt ?? j.createdAt ?? 0),
    count: Number(j.count ?? 1),
    data: (j.data ?? {}) as NotificationData,
    readAt: j.readAt ?? null,
    seenAt: j.seenAt ?? null,
    archivedAt: j.archivedAt ?? null,
  };
}

/** Newest first (by last change, then id for a stable order). */
export function listNotifications(doc: Y.Doc): Notification[] {
  const list: Notification[] = [];
  inboxParts(doc).notifications.forEach((map) => {
    if (map instanceof Y.Map) list.push(notificationToJSON(map));
  });
  return list.sort((a, b) => b.updatedAt - a.updatedAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
}

export const isUnread = (n: Pick<Notification, 'readAt' | 'archivedAt'>): boolean =>
  n.readAt === null && n.archivedAt === null;

export const unreadNotificationCount = (doc: Y.Doc): number => listNotifications(doc).filter(isUnread).length;

/** Sets one of the owner's fields on a notification; false if it does not exist. */
export function setNotificationField(doc: Y.Doc, id: string, field: OwnerNotificationField, value: number | null): boolean {
  const map = inboxParts(doc).notifications.get(id);
  if (!(map instanceof Y.Map)) return false;
  map.set(field, value);
  return true;
}

export function markAllRead(doc: Y.Doc, at = Date.now()): number {
  let changed = 0;
  doc.transact(() => {
    inboxParts(doc).notifications.forEach((map) => {
      if (map instanceof Y.Map && map.get('readAt') == null && map.get('archivedAt') == null) {
        map.set('readAt', at);
        changed++;
      }
    });
  });
  return changed;
}

/** Creates `prefs.channels` and `prefs.muted` if missing. The server does this once, before any client writes. */
export function ensurePrefsMaps(doc: Y.Doc): void {
  const prefs = inboxParts(doc).prefs;
  if (!(prefs.get(PrefsKeys.channels) instanceof Y.Map)) prefs.set(PrefsKeys.channels, new Y.Map());
  if (!(prefs.get(PrefsKeys.muted) instanceof Y.Map)) prefs.set(PrefsKeys.muted, new Y.Map());
}

export function readPrefs(doc: Y.Doc): Prefs {
  const prefs = inboxParts(doc).prefs.toJSON() as Partial<Prefs>;
  const quiet = QuietHours.safeParse(prefs.quietHours);
  return { channels: prefs.channels ?? {}, muted: prefs.muted ?? {}, quietHours: quiet.success ? quiet.data : null };
}

export function channelsFor(prefs: Prefs, kind: string): Channels {
  return { ...DEFAULT_CHANNELS, ...prefs.channels[kind] };
}

export const isMuted = (prefs: Prefs, conversationId: string, now = Date.now()): boolean =>
  (prefs.muted[conversationId] ?? 0) > now;

function prefsMap(doc: Y.Doc, key: keyof typeof PrefsKeys): Y.Map<unknown> | null {
  const map = inboxParts(doc).prefs.get(PrefsKeys[key]);
  return map instanceof Y.Map ? map : null;
}

/** Sets (or with null clears) the quiet hours. */
export function setQuietHours(doc: Y.Doc, quietHours: QuietHours | null): void {
  const prefs = inboxParts(doc).prefs as unknown as Y.Map<unknown>;
  if (quietHours === null) prefs.delete(QUIET_HOURS_KEY);
  else prefs.set(QUIET_HOURS_KEY, { ...quietHours });
}

export function setChannels(doc: Y.Doc, kind: string, channels: ChannelsInput): boolean {
  const map = prefsMap(doc, 'channels');
  if (!map) return false;
  map.set(kind, channels);
  return true;
}

/** Mutes until `until` (ms epoch); `null` unmutes. */
export function setMuted(doc: Y.Doc, conversationId: string, until: number | null): boolean {
  const map = prefsMap(doc, 'muted');
  if (!map) return false;
  if (until === null) map.delete(conversationId);
  else map.set(conversationId, until);
  return true;
}
