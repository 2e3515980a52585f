import { DEFAULTS, channelsFor, conversationDocName, conversationParts, inboxDocName, isMuted, readPrefs, type Member, type ReadReceipt } from '@parley/schema';
import type { Logger } from '../../logger';
import type { Metrics } from '../../metrics';
import type { Storage } from '../../storage/Storage';
import type { ServerWriter } from '../../sync/ServerWriter';
import { digestAll, type MemberDigest } from './conversationDigest';
import { addNotification, openChatNotification, patchNotification, setConversationSummary } from './inboxWrites';
import { render } from './templates';

interface Snapshot {
  title: string;
  members: string[];
  digests: Map<string, MemberDigest>;
}

/**
 * Keeps members' inboxes in step with a conversation: the `conversations`
 * summary (title, last message, unread) and one coalesced `new_message`
 * notification per burst of unread messages. It recomputes from the
 * documents instead of counting events, so running twice (after a crash, or
 * a replayed update) gives the same inboxes. Conversations to recompute are
 * marked durably before the update that needs it is stored.
 */
export class ChatNotifier {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly running = new Map<string, Promise<void>>();

  constructor(private readonly deps: { storage: Storage; writer: ServerWriter; metrics: Metrics; logger: Logger }) {}

  /** Durable: after a crash the recompute still happens (see recover). */
  async mark(conversationId: string): Promise<void> {
    await this.deps.storage.work.mark(conversationId);
  }

  /** Recompute soon; bursts of messages coalesce into one run. */
  schedule(conversationId: string): void {
    if (this.timers.has(conversationId)) return;
    const timer = setTimeout(() => {
      this.timers.delete(conversationId);
      void this.run(conversationId);
    }, DEFAULTS.chatNotifyDelayMs);
    this.timers.set(conversationId, timer);
  }

  /** Finishes what a previous run of the server left marked. */
  async recover(): Promise<void> {
    for (const { conversationId } of await this.deps.storage.work.all()) await this.run(conversationId);
  }

  async idle(): Promise<void> {
    while (this.timers.size || this.running.size) {
      for (const [id, timer] of this.timers) {
        clearTimeout(timer);
        this.timers.delete(id);
        void this.run(id);
      }
      await Promise.all(this.running.values());
    }
  }

  run(conversationId: string): Promise<void> {
    const previous = this.running.get(conversationId) ?? Promise.resolve();
    const next = previous.then(() => this.recompute(conversationId)).catch((error: unknown) => {
      this.deps.logger.error({ err: error, conversationId }, 'chat notifications failed');
    });
    this.running.set(conversationId, next);
    void next.finally(() => {
      if (this.running.get(conversationId) === next) this.running.delete(conversationId);
    });
    return next;
  }

  private async recompute(conversationId: string): Promise<void> {
    const { storage, writer } = this.deps;
    const version = await storage.work.version(conversationId);
    const record = await storage.conversations.get(conversationId);
    if (!record) {
      if (version !== null) await storage.work.clear(conversationId, version);
      return;
    }
    const snapshot = await writer.read(conversationDocName(conversationId), (doc): Snapshot => {
      const parts = conversationParts(doc);
      const members = Object.keys(parts.members.toJSON() as Record<string, Member>);
      const reads = parts.reads.toJSON() as Record<string, ReadReceipt>;
      return { title: record.title, members, digests: digestAll(doc, members, reads) };
    });
    // Display names of the authors people will be notified about, looked up once per recompute.
    const authors = [...new Set([...snapshot.digests.values()].flatMap((d) => (d.latestUnread ? [d.latestUnread.author] : [])))];
    const names = new Map((await storage.users.get(authors)).map((u) => [u.id, u.name ?? u.id]));
    const perTurn = DEFAULTS.chatNotifyInboxesPerTurn;
    for (let start = 0; start < snapshot.members.length; start += perTurn) {
      if (start > 0) await new Promise<void>((resolve) => setImmediate(resolve));
      const group = snapshot.members.slice(start, start + perTurn);
      await Promise.all(group.map((userId) => this.updateInbox(conversationId, userId, snapshot, names)));
    }
    if (version !== null) await storage.work.clear(conversationId, version);
  }

  private async updateInbox(conversationId: string, userId: string, snapshot: Snapshot, names: Map<string, string>): Promise<void> {
    const digest = snapshot.digests.get(userId)!;
    const actorName = digest.latestUnread ? (names.get(digest.latestUnread.author) ?? digest.latestUnread.author) : '';
    const now = Date.now();
    const created = await this.deps.writer.write(inboxDocName(userId), (inbox) => {
      setConversationSummary(inbox, conversationId, { title: snapshot.title, lastMessage: digest.lastMessage, unread: digest.unread });
      const open = openChatNotification(inbox, conversationId);
      const latest = digest.latestUnread;
      if (!latest) {
        if (open) patchNotification(inbox, open.id, { readAt: now });
        return false;
      }
      const { title, body } = render('new_message', { actor: actorName, conversation: snapshot.title, text: latest.text });
      const data = { conversationId, actor: latest.author, messageId: latest.id, url: `/c/${conversationId}` };
      if (open) {
        patchNotification(inbox, open.id, { title, body, count: digest.unread, data, ...(open.count !== digest.unread || open.body !== body ? { updatedAt: now } : {}) });
        return false;
      }
      const prefs = readPrefs(inbox);
      if (isMuted(prefs, conversationId, now) || !channelsFor(prefs, 'new_message').inApp) return false;
      const id = `chat:${conversationId}:${latest.id}`;
      if (addNotification(inbox, { id, kind: 'new_message', title, body, data, count: digest.unread }, now)) return true;
      // The same burst was read through the notification only: open it again.
      patchNotification(inbox, id, { title, body, data, count: digest.unread, readAt: null, updatedAt: now });
      return false;
    });
    if (created) {
      this.deps.metrics.notificationsCreated.inc({ kind: 'new_message' });
      this.deps.metrics.notificationsDelivered.inc({ channel: 'inApp' });
    }
  }
}
