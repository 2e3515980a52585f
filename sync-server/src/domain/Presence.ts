import type { Identity, PresenceEntry } from '@parley/schema';
import type { Storage } from '../storage/Storage';
import type { SessionRegistry } from '../sync/SessionRegistry';

/**
 * Online while any socket of the user is open; `lastSeenAt` is stored when
 * they come and go, so it survives restarts.
 */
export class Presence {
  constructor(
    private readonly storage: Storage,
    sessions: SessionRegistry,
    /** Who is online: this node's sockets, or every node's in cluster mode. */
    private readonly online: { isOnline(userId: string): boolean } = sessions,
  ) {
    // Best effort: a lost last-seen time (the disk full, say) only makes it older.
    sessions.onChange((userId) => void storage.users.setLastSeen(userId, Date.now()).catch(() => {}));
  }

  /** Answers only for users who share a conversation with the caller (and the caller). */
  async of(caller: Identity, userIds: string[]): Promise<Record<string, PresenceEntry>> {
    const visible: string[] = [];
    for (const userId of new Set(userIds)) {
      if (userId === caller.userId || (await this.storage.conversations.shareAny(caller.userId, userId))) visible.push(userId);
    }
    const records = new Map((await this.storage.users.get(visible)).map((u) => [u.id, u]));
    const answer: Record<string, PresenceEntry> = {};
    for (const userId of visible) {
      const online = this.online.isOnline(userId);
      answer[userId] = { online, lastSeenAt: online ? Date.now() : (records.get(userId)?.lastSeenAt ?? null) };
    }
    return answer;
  }
}
