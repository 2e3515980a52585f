import { channelsFor, isMuted, isUnread, type Notification, type Prefs } from '@parley/schema';
import type { DeliveryChannel } from '../storage/Storage';
import { quietHoursEnd } from './quietHours';

/** The one kind that reaches a user through a conversation they muted (CONTRACT 3 and 7). */
const REACHES_THROUGH_MUTE = 'mention';

export type StepVerdict = { go: true } | { go: false; skip: string } | { go: false; waitUntil: number };

export interface StepState {
  /** The notification as the inbox holds it now (null: removed). */
  notification: Notification | null;
  prefs: Prefs;
  /** Whether the user has an open WebSocket (push only goes to users who are away). */
  online: boolean;
  now: number;
}

/**
 * CONTRACT 7, checked by each step's job when it runs (never when it was
 * queued): the version it was queued for is still the current one, unread
 * and unarchived; the channel is on for the kind; the conversation is not
 * muted (mentions excepted); push only while the user is offline; push, SMS
 * wait out the quiet hours. The email step only decides that a notification
 * may join a digest: quiet hours hold the digest itself (EmailDigest).
 */
export function stepVerdict(channel: DeliveryChannel, version: number, state: StepState): StepVerdict {
  const n = state.notification;
  if (!n) return { go: false, skip: 'removed' };
  if (n.updatedAt !== version) return { go: false, skip: 'superseded' };
  if (!isUnread(n)) return { go: false, skip: 'read' };
  const conversationId = n.data.conversationId;
  if (typeof conversationId === 'string' && n.kind !== REACHES_THROUGH_MUTE && isMuted(state.prefs, conversationId, state.now)) return { go: false, skip: 'muted' };
  if (!channelsFor(state.prefs, n.kind)[channel]) return { go: false, skip: 'channel off' };
  if (channel === 'push' && state.online) return { go: false, skip: 'online' };
  if (channel !== 'email') {
    const end = quietHoursEnd(state.prefs.quietHours, state.now);
    if (end !== null) return { go: false, waitUntil: end };
  }
  return { go: true };
}
