import {
  inboxParts,
  isUnread,
  listNotifications,
  markAllRead,
  PrefsKeys,
  readPrefs,
  setChannels,
  setMuted,
  setNotificationField,
  type ChannelsInput,
  type ConversationSummary,
  type Notification,
  type Prefs,
} from '@parley/schema';
import * as Y from 'yjs';
import type { DocReplica } from './DocReplica';
import { Emitter } from './Emitter';

export interface InboxSnapshot {
  /** Newest first, archived ones included (filter on `archivedAt`). */
  notifications: Notification[];
  /** The bell's badge: unread and not archived. */
  unreadCount: number;
  conversations: Record<string, ConversationSummary>;
  prefs: Prefs;
  /** The server created the `prefs` maps, so preferences can be written. */
  prefsReady: boolean;
}

/** Typed operations and derived state over the user's `inbox:<userId>` document. */
export class InboxHandle extends Emitter<{ change: void }> {
  private version = 0;
  private cached: { version: number; snapshot: InboxSnapshot } | null = null;
  private unsubscribe: () => void;

  constructor(readonly replica: DocReplica) {
    super();
    this.unsubscribe = replica.on('change', () => {
      this.version++;
      this.emit('change', undefined);
    });
  }

  snapshot(): InboxSnapshot {
    if (this.cached?.version === this.version) return this.cached.snapshot;
    const doc = this.replica.doc;
    const notifications = listNotifications(doc);
    const prefs = inboxParts(doc).prefs;
    const snapshot: InboxSnapshot = {
      notifications,
      unreadCount: notifications.filter(isUnread).length,
      conversations: inboxParts(doc).conversations.toJSON() as Record<string, ConversationSummary>,
      prefs: readPrefs(doc),
      prefsReady: prefs.get(PrefsKeys.channels) instanceof Y.Map && prefs.get(PrefsKeys.muted) instanceof Y.Map,
    };
    this.cached = { version: this.version, snapshot };
    return snapshot;
  }

  markRead(id: string, at = Date.now()): boolean {
    return this.replica.write((doc) => setNotificationField(doc, id, 'readAt', at)) ?? true;
  }

  markUnread(id: string): boolean {
    return this.replica.write((doc) => setNotificationField(doc, id, 'readAt', null)) ?? true;
  }

  markSeen(id: string, at = Date.now()): boolean {
    return this.replica.write((doc) => setNotificationField(doc, id, 'seenAt', at)) ?? true;
  }

  markAllRead(at = Date.now()): number {
    return this.replica.write((doc) => markAllRead(doc, at)) ?? 0;
  }

  archive(id: string, at = Date.now()): boolean {
    return this.replica.write((doc) => setNotificationField(doc, id, 'archivedAt', at)) ?? true;
  }

  unarchive(id: string): boolean {
    return this.replica.write((doc) => setNotificationField(doc, id, 'archivedAt', null)) ?? true;
  }

  /**
   * Channel preferences for one notification kind. The nested maps are the
   * server's to create, so a fresh replica waits for its first sync.
   */
  async setChannels(kind: string, channels: ChannelsInput): Promise<void> {
    await this.whenPrefsReady();
    this.replica.write((doc) => setChannels(doc, kind, channels));
  }

  /** Mutes a conversation until `until` (ms epoch); `null` unmutes. */
  async mute(conversationId: string, until: number | null): Promise<void> {
    await this.whenPrefsReady();
    this.replica.write((doc) => setMuted(doc, conversationId, until));
  }

  whenPrefsReady(): Promise<void> {
    if (this.snapshot().prefsReady) return Promise.resolve();
    return new Promise((resolve) => {
      const off = this.on('change', () => {
        if (this.snapshot().prefsReady) {
          off();
          resolve();
        }
      });
    });
  }

  dispose(): void {
    this.unsubscribe();
    this.clear();
  }
}
