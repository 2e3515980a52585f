import { DEFAULTS, channelsFor, conversationDocName, conversationParts, inboxDocName, isMuted, readPrefs, type Member, type ReadReceipt } from '@parley/schema';
import type { Logger } from '../../logger';
import type { Metrics } from '../../metrics';
import type { Storage } from '../../storage/Storage';
import type { ServerWriter } from '../../sync/ServerWriter';
import { digestAll, type MemberDigest } from './conversationDigest';
import { addNotification, chatNotifications, patchNotification, setConversationSummary } from './inboxWrites';
import { render } from './templates';
import { RecomputeQueue } from './RecomputeQueue';
import { inTurns } from '../inTurns';

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
  /** Conversations marked durably, with the number of changes since their last recompute began. */
  private readonly marks = new Map<string, number>();
  /** Recomputed conversations whose marks the next sweep clears, with the changes each recompute covered. */
  private readonly clearable = new Map<string, number>();
  private sweepTimer: NodeJS.Timeout | null = null;
  private readonly queue = new RecomputeQueue((conversationId) =>
    this.recompute(conversationId).catch((error: unknown) => {
      this.deps.logger.error({ err: error, conversationId }, 'chat notifications failed');
    }),
  );

  constructor(private readonly deps: { storage: Storage; writer: ServerWriter; metrics: Metrics; logger: Logger }) {}

  /**
   * Durable: after a crash the recompute still happens (see recover). Only
   * the first change since the mark was last cleared writes it; the later
   * ones are covered by it, so a busy conversation costs one write, not one
   * per message.
   */
  mark(conversationId: string): Promise<void> {
    const changes = (this.marks.get(conversationId) ?? 0) + 1;
    this.marks.set(conversationId, changes);
    if (changes !== 1) return Promise.resolve();
    return this.deps.storage.work.mark(conversationId).catch((error: unknown) => {
      // Not stored: the next change must write the mark again.
      this.marks.delete(conversationId);
      throw error;
    });
  }

  /** Recompute soon; a burst of messages coalesces into one run. */
  schedule(conversationId: string): void {
    this.queue.schedule(conversationId);
  }

  /** Finishes what a previous run of the server left marked. */
  async recover(): Promise<void> {
    for (const conversationId of await this.deps.storage.work.all()) {
      this.marks.set(conversationId, this.marks.get(conversationId) ?? 1);
      this.schedule(conversationId);
    }
    await this.idle();
  }

  /** Resolves once nothing is due or running. */
  async idle(): Promise<void> {
    await this.queue.idle();
    await this.sweepMarks();
  }

  private async recompute(conversationId: string): Promise<void> {
    const { storage, writer } = this.deps;
    const changesSeen = this.marks.get(conversationId) ?? 0;
    const record = await storage.conversations.get(conversationId);
    if (!record) return this.clearMark(conversationId, changesSeen);
    const snapshot = await writer.read(conversationDocName(conversationId), (doc): Snapshot => {
      const parts = conversationParts(doc);
      const members = Object.keys(parts.members.toJSON() as Record<string, Member>);
      const reads = parts.reads.toJSON() as Record<string, ReadReceipt>;
      return { title: record.title, members, digests: digestAll(doc, members, reads) };
    });
    // Display names of the authors people will be notified about, looked up once per recompute.
    const authors = [...new Set([...snapshot.digests.values()].flatMap((d) => (d.latestUnread ? [d.latestUnread.author] : [])))];
    const names = new Map((await storage.users.get(authors)).map((u) => [u.id, u.name ?? u.id]));
    await inTurns(snapshot.members, DEFAULTS.chatNotifyInboxesPerTurn, (userId) => this.updateInbox(conversationId, userId, snapshot, names));
    this.clearMark(conversationId, changesSeen);
  }

  /**
   * The durable mark can go unless a change came in since the recompute
   * began (its own recompute is due then). Marks are cleared in one sweep a
   * while later, so a busy conversation is not unmarked and marked again for
   * every burst; a mark left behind by a crash only costs a recompute.
   */
  private clearMark(conversationId: string, changesSeen: number): void {
    if (changesSeen === 0) return;
    this.clearable.set(conversationId, changesSeen);
    if (this.sweepTimer) return;
    this.sweepTimer = setTimeout(() => {
      // A mark that could not be cleared (the disk full) only costs one more recompute after a restart.
      this.sweepMarks().catch((error: unknown) => this.deps.logger.warn({ err: error }, 'clearing chat notification marks failed'));
    }, DEFAULTS.chatNotifyMarkSweepMs);
    this.sweepTimer.unref();
  }

  private async sweepMarks(): Promise<void> {
    if (this.sweepTimer) clearTimeout(this.sweepTimer);
    this.sweepTimer = null;
    const clears: Promise<void>[] = [];
    for (const [conversationId, changesSeen] of this.clearable) {
      if (this.marks.get(conversationId) !== changesSeen) continue;
      this.marks.delete(conversationId);
      // Queued in the same ordered group commit as any later mark, so it cannot undo one.
      clears.push(this.deps.storage.work.clear(conversationId));
    }
    this.clearable.clear();
    await Promise.all(clears);
  }

  private async updateInbox(conversationId: string, userId: string, snapshot: Snapshot, names: Map<string, string>): Promise<void> {
    const digest = snapshot.digests.get(userId)!;
    const actorName = digest.latestUnread ? (names.get(digest.latestUnread.author) ?? digest.latestUnread.author) : '';
    const now = Date.now();
    const created = await this.deps.writer.write(inboxDocName(userId), (inbox) => {
      setConversationSummary(inbox, conversationId, { title: snapshot.title, lastMessage: digest.lastMessage, unread: digest.unread });
      const latest = digest.latestUnread;
      const { open, toldAbout } = chatNotifications(inbox, conversationId, latest?.id ?? null);
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
      // Read or archived through the inbox while the messages stay unread: nothing new to tell.
      if (toldAbout) return false;
      const prefs = readPrefs(inbox);
      if (isMuted(prefs, conversationId, now) || !channelsFor(prefs, 'new_message').inApp) return false;
      const id = `chat:${conversationId}:${latest.id}`;
      if (addNotification(inbox, { id, kind: 'new_message', title, body, data, count: digest.unread }, now)) return true;
      // This id was moved on to newer messages, since deleted: bring it back to this one.
      patchNotification(inbox, id, { title, body, data, count: digest.unread, readAt: null, updatedAt: now });
      return false;
    });
    if (created) {
      this.deps.metrics.notificationsCreated.inc({ kind: 'new_message' });
      this.deps.metrics.notificationsDelivered.inc({ channel: 'inApp' });
    }
  }
}
