import { DEFAULTS, channelsFor, conversationDocName, inboxDocName, isMuted, readPrefs, type ConversationKind } from '@parley/schema';
import type { Logger } from '../../logger';
import type { Metrics } from '../../metrics';
import type { Storage, WorkClaim } from '../../storage/Storage';
import type { ServerWriter } from '../../sync/ServerWriter';
import { digestAll, type MemberDigest } from './conversationDigest';
import { chatNotificationId, currentQuotes, requotedBody } from './quotingNotifications';
import { addNotification, chatNotifications, patchNotification, setConversationSummary } from './inboxWrites';
import { moveReceiptForward } from './readThrough';
import { render } from './templates';
import { RecomputeQueue } from './RecomputeQueue';
import { inTurns } from '../inTurns';

/** A node that found another's claim comes back this long after the claim's end (clocks of nodes differ a little). */
const CLAIM_SLACK_MS = 50;
/** How long a grace entry outlives its grace when no recompute asks for it again. */
const GRACE_ENTRY_TTL_MS = 60_000;

interface Snapshot {
  title: string;
  kind: ConversationKind;
  members: string[];
  digests: Map<string, MemberDigest>;
}

/**
 * Keeps members' inboxes in step with a conversation: the `conversations`
 * summary (title, last message, unread) and one coalesced `new_message`
 * notification per burst of unread messages. It recomputes from the
 * message index (never the document) instead of counting events, so running twice (after a crash, or
 * a replayed update) gives the same inboxes. Conversations to recompute are
 * marked durably with the update that needs it; every change bumps the mark's
 * version, and a recompute clears only the version it read, so with several
 * nodes a burst another node already recomputed is skipped (no mark left);
 * one node at a time holds a conversation's claim and recomputes it.
 */
export class ChatNotifier {
  /**
   * Marks this node started and not yet stored, per conversation: the update event schedules the
   * recompute before the group commit stores the mark, and a recompute must not take a mark not
   * yet stored for "no mark, already done".
   */
  private readonly storing = new Map<string, Set<Promise<void>>>();
  /**
   * `<conversation>\n<message>` of messages waiting out DEFAULTS.chatNotifyGraceMs before
   * they may be notified, with when the server first saw them unread (the
   * author's clock may run ahead). Each entry goes when its grace is over.
   */
  private readonly graceFrom = new Map<string, { from: number; timer: NodeJS.Timeout }>();
  /**
   * `<conversation>\n<user>` -> message of a chat notification the user marked read in the
   * inbox (readThrough). The recompute that follows leaves that notification as the inbox has
   * it: the user may have marked it unread again meanwhile, and that choice stands.
   */
  private readonly readInInbox = new Map<string, string>();
  private readonly queue = new RecomputeQueue((conversationId) =>
    this.recompute(conversationId).catch((error: unknown) => {
      this.deps.logger.error({ err: error, conversationId }, 'chat notifications failed');
    }),
  );

  /** Recomputes that found another node's claim, waiting for it to end. */
  private readonly waitingForClaim = new Map<string, NodeJS.Timeout>();
  /** Conversations this node holds the claim of (a recompute running, or deferred to the end of a grace). */
  private readonly holding = new Set<string>();

  /** `node` names this server among the cluster's (the claimant of its recomputes). */
  constructor(private readonly deps: { storage: Storage; writer: ServerWriter; metrics: Metrics; logger: Logger; node: string }) {}

  /**
   * Durable: after a crash the recompute still happens (see recover). Every
   * change writes (bumps) it, in the group commit of the change itself: a
   * recompute on another node that read an older version then leaves it.
   */
  mark(conversationId: string): Promise<void> {
    const stored = this.deps.storage.work.mark(conversationId);
    const pending = this.storing.get(conversationId) ?? new Set<Promise<void>>();
    this.storing.set(conversationId, pending);
    pending.add(stored);
    const settled = () => {
      pending.delete(stored);
      if (pending.size === 0 && this.storing.get(conversationId) === pending) this.storing.delete(conversationId);
    };
    stored.then(settled, settled);
    return stored;
  }

  /** Recompute soon; a burst of messages coalesces into one run. */
  schedule(conversationId: string): void {
    this.queue.schedule(conversationId);
  }

  /** Finishes what a previous run of the server left marked. */
  async recover(): Promise<void> {
    for (const conversationId of await this.deps.storage.work.all()) this.schedule(conversationId);
    await this.idle();
  }

  /** Resolves once nothing is due or running. */
  async idle(): Promise<void> {
    await this.queue.idle();
  }

  /**
   * One node recomputes a conversation at a time (issue 15, item 4): this one
   * claims it first. The holder recomputes again while changes came in
   * during its run. A node that finds another's claim comes back when the
   * claim ends: the holder has cleared the mark by then (nothing to do), or
   * died holding it (the claim is taken over).
   */
  private async recompute(conversationId: string): Promise<void> {
    // Read before the index: a change stored after this read bumps the version, so the clear leaves its mark.
    const claim = await this.claim(conversationId);
    this.deps.metrics.chatRecomputes.inc({ outcome: claim.kind === 'claimed' ? 'ran' : claim.kind });
    // No mark: whoever cleared it (this node or another) read the index after every stored change.
    if (claim.kind === 'none') return;
    if (claim.kind === 'busy') return this.comeBackAt(conversationId, claim.until);
    const { node } = this.deps;
    this.holding.add(conversationId);
    const outcome = await this.recomputeClaimed(conversationId).catch(async (error: unknown) => {
      await this.letGo(conversationId);
      throw error;
    });
    // A deferred notification keeps the durable mark (after a crash, the recompute still happens)
    // and the claim: this node comes back at the end of the grace, and the burst stays its own.
    if (outcome === 'deferred') return;
    this.holding.delete(conversationId);
    // Changed meanwhile (here or on a node that found this claim): the holder goes on, so nobody waits for the claim's end.
    if (await this.deps.storage.work.clear(conversationId, claim.version, node)) this.schedule(conversationId);
  }

  private async letGo(conversationId: string): Promise<void> {
    this.holding.delete(conversationId);
    await this.deps.storage.work.release(conversationId, this.deps.node).catch((error: unknown) => {
      // Its time runs out by itself (DEFAULTS.chatRecomputeClaimMs).
      this.deps.logger.warn({ err: error, conversationId }, 'could not release a recompute claim');
    });
  }

  private comeBackAt(conversationId: string, until: number): void {
    if (this.waitingForClaim.has(conversationId)) return;
    const timer = setTimeout(() => {
      this.waitingForClaim.delete(conversationId);
      this.schedule(conversationId);
    }, Math.max(0, until - Date.now()) + CLAIM_SLACK_MS);
    timer.unref();
    this.waitingForClaim.set(conversationId, timer);
  }

  private async recomputeClaimed(conversationId: string): Promise<'done' | 'deferred'> {
    const { storage } = this.deps;
    const record = await storage.conversations.get(conversationId);
    if (!record) return 'done';
    // Who blocks whom in this room (issue 14): a blocked author's messages neither count nor notify for the blocker.
    const blocked = await storage.blocks.amongMembers(conversationId);
    const members = (await storage.conversations.members(conversationId)).map((m) => m.userId);
    const snapshot: Snapshot = { title: record.title, kind: record.kind, members, digests: await digestAll(storage.messages, conversationId, members, blocked) };
    // Display names of the authors people will be notified about, looked up once per recompute.
    const authors = [...new Set([...snapshot.digests.values()].flatMap((d) => (d.latestUnread ? [d.latestUnread.author] : [])))];
    const names = new Map((await storage.users.get(authors)).map((u) => [u.id, u.name ?? u.id]));
    let deferred = false;
    await inTurns(snapshot.members, DEFAULTS.chatNotifyInboxesPerTurn, async (userId) => {
      if ((await this.updateInbox(conversationId, userId, snapshot, names)) === 'deferred') deferred = true;
    });
    return deferred ? 'deferred' : 'done';
  }

  /** Claims the stored mark, once this node's marks of the conversation are stored (a failed one marks nothing). */
  private async claim(conversationId: string): Promise<WorkClaim> {
    const pending = this.storing.get(conversationId);
    if (pending) await Promise.allSettled([...pending]);
    const now = Date.now();
    return this.deps.storage.work.claim(conversationId, this.deps.node, now + DEFAULTS.chatRecomputeClaimMs, now);
  }

  /** Whether a notification about this message must wait (its grace not over yet); arranges the recompute at the end of it. */
  private inGrace(conversationId: string, messageId: string, now: number): boolean {
    const key = `${conversationId}\n${messageId}`;
    const waiting = this.graceFrom.get(key);
    if (waiting === undefined) {
      // At the end of the grace, recompute. An entry no recompute came back for (the message was
      // read meanwhile) is forgotten a while later.
      const entry = {
        from: now,
        timer: setTimeout(() => {
          this.schedule(conversationId);
          entry.timer = setTimeout(() => this.graceFrom.delete(key), GRACE_ENTRY_TTL_MS);
          entry.timer.unref();
        }, DEFAULTS.chatNotifyGraceMs),
      };
      entry.timer.unref();
      this.graceFrom.set(key, entry);
      return true;
    }
    if (now - waiting.from < DEFAULTS.chatNotifyGraceMs) return true;
    clearTimeout(waiting.timer);
    this.graceFrom.delete(key);
    return false;
  }

  /**
   * Finishes what is running and forgets the notifications still in their
   * grace: their conversations stay marked durably, so the next start
   * (recover) notifies them.
   */
  async stop(): Promise<void> {
    for (const { timer } of this.graceFrom.values()) clearTimeout(timer);
    this.graceFrom.clear();
    for (const timer of this.waitingForClaim.values()) clearTimeout(timer);
    this.waitingForClaim.clear();
    await this.idle();
    // A node that stops (drains) hands its bursts to the others at once, not at the end of its claims.
    await Promise.all([...this.holding].map((conversationId) => this.letGo(conversationId)));
  }

  /**
   * The user marked a chat notification read (in the inbox document or
   * through the API): that reads the conversation up to the message it is
   * about, so the conversation's unread badge agrees with the inbox. Never
   * moves a receipt backward.
   */
  async readThrough(userId: string, conversationId: string, messageId: string): Promise<void> {
    // Only a member has a receipt to move (a notification can outlive the membership).
    if ((await this.deps.storage.conversations.role(conversationId, userId)) === null) return;
    this.readInInbox.set(`${conversationId}\n${userId}`, messageId);
    await this.deps.writer.write(conversationDocName(conversationId), (doc) => moveReceiptForward(doc, userId, messageId));
  }

  /**
   * What the inbox may quote now of the messages its chat notifications are
   * about, from the message index (which knows each message's current text
   * and deletion, in the live document or not).
   */
  private async quotesFor(conversationId: string, userId: string): Promise<Map<string, string>> {
    const ids = await this.deps.writer.read(inboxDocName(userId), (inbox) => chatNotifications(inbox, conversationId, null).all.map((n) => n.data.messageId));
    return currentQuotes(this.deps.storage.messages, conversationId, ids);
  }

  /** Whether the user was told about this message by a notification that has since left the inbox document (issue 9). */
  private async archivedAbout(conversationId: string, userId: string, messageId: string | undefined): Promise<boolean> {
    if (messageId === undefined) return false;
    return (await this.deps.storage.notificationArchive.get(userId, chatNotificationId(conversationId, messageId))) !== null;
  }

  private async updateInbox(conversationId: string, userId: string, snapshot: Snapshot, names: Map<string, string>): Promise<'created' | 'deferred' | 'none'> {
    const digest = snapshot.digests.get(userId)!;
    const actorName = digest.latestUnread ? (names.get(digest.latestUnread.author) ?? digest.latestUnread.author) : '';
    const quotes = await this.quotesFor(conversationId, userId);
    const archived = await this.archivedAbout(conversationId, userId, digest.latestUnread?.id);
    const inboxKey = `${conversationId}\n${userId}`;
    const readInInbox = this.readInInbox.get(inboxKey);
    this.readInInbox.delete(inboxKey);
    const now = Date.now();
    const outcome = await this.deps.writer.write(inboxDocName(userId), (inbox): 'created' | 'deferred' | 'none' => {
      setConversationSummary(inbox, conversationId, { title: snapshot.title, lastMessage: digest.lastMessage, unread: digest.unread });
      const latest = digest.latestUnread;
      const { open, toldAbout, all } = chatNotifications(inbox, conversationId, latest?.id ?? null);
      // Every notification quotes its message as it is now, read or not: an edit shows, a deletion hides the text.
      for (const n of all) {
        const body = requotedBody(n, quotes);
        if (body !== null) patchNotification(inbox, n.id, { body });
      }
      if (!latest) {
        if (open && open.data.messageId !== readInInbox) patchNotification(inbox, open.id, { readAt: now });
        return 'none';
      }
      const template = snapshot.kind === 'direct' ? 'new_message.direct' : 'new_message';
      const { title, body } = render(template, { actor: actorName, conversation: snapshot.title, text: latest.text });
      const data = { conversationId, actor: latest.author, messageId: latest.id, url: `/c/${conversationId}` };
      if (open) {
        patchNotification(inbox, open.id, { title, body, count: digest.unread, data, ...(open.count !== digest.unread || open.body !== body ? { updatedAt: now } : {}) });
        return 'none';
      }
      // Read or archived through the inbox while the messages stay unread: nothing new to tell.
      if (toldAbout || archived) return 'none';
      const prefs = readPrefs(inbox);
      if (isMuted(prefs, conversationId, now) || !channelsFor(prefs, 'new_message').inApp) return 'none';
      // Someone reading the chat live reads it within the grace: no notification for what they saw.
      if (this.inGrace(conversationId, latest.id, now)) return 'deferred';
      const id = chatNotificationId(conversationId, latest.id);
      if (addNotification(inbox, { id, kind: 'new_message', title, body, data, count: digest.unread }, now)) return 'created';
      // This id was moved on to newer messages, since deleted: bring it back to this one.
      patchNotification(inbox, id, { title, body, data, count: digest.unread, readAt: null, updatedAt: now });
      return 'none';
    });
    if (outcome === 'created') {
      this.deps.metrics.notificationsCreated.inc({ kind: 'new_message' });
      this.deps.metrics.notificationsDelivered.inc({ channel: 'inApp' });
    }
    return outcome;
  }
}
