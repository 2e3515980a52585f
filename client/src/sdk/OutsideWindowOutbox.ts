import type * as Y from 'yjs';
import { DEFAULTS, editMessage, reactionKey, setReaction, softDeleteMessage, type Message } from '@parley/schema';
import { IdbTable } from './IdbTable';
import { isNetworkFailure } from './HistoryCache';
import type { ApiClient } from './ApiClient';

/**
 * A change to a message outside the live window (older history), sent over
 * the REST message calls. Receipts are not among them: a receipt lives in the
 * live document's `reads`, whatever message it names.
 */
export type OutsideWindowChange =
  | { op: 'edit'; text: string }
  | { op: 'delete' }
  | { op: 'reaction'; emoji: string; on: boolean };

interface QueuedChange {
  conversationId: string;
  messageId: string;
  change: OutsideWindowChange;
  /** Order of queueing: changes are sent oldest first. */
  seq: number;
}

export interface OutboxRejection {
  conversationId: string;
  messageId: string;
  change: OutsideWindowChange;
  status: number;
  code: string;
}

/** The outbox is full (DEFAULTS.outsideWindowOutboxMax): the change is refused, not queued. */
export class OutboxFull extends Error {}

/**
 * A 404 is retried this many times before it counts as a refusal: the message
 * may be one of this replica's own, on its way to the server again after a
 * renewal of the live document (RenewalRecovery posts it again).
 */
const NOT_FOUND_TRIES = 5;
/** A change kept back (no server, a 5xx, a 429, a 404 still retried) is tried again after this, doubling up to RETRY_MAX_MS. */
const RETRY_MS = 2_000;
const RETRY_MAX_MS = 30_000;

/**
 * The one queue of changes to messages outside the live window (issue 9,
 * item 2): edits, soft deletions and own reactions made through
 * `Session.changeMessage`, through a `ConversationHandle` whose message has
 * left the window, and re-made by RenewalRecovery after a renewal. Queued
 * durably in IndexedDB (it survives a reload offline) and sent over `PATCH`,
 * `DELETE` and `PUT`/`DELETE .../reactions`, which judge them by the same
 * rules as the live document. Exactly once in effect: each call is
 * idempotent on the server (an edit to the same text, deleting a deleted
 * message, adding a present reaction change nothing), and a change leaves
 * the outbox only after the server answered it, so a crash or a lost answer
 * means a harmless resend, never a loss. Later changes of the same kind to
 * the same message replace earlier ones (the last edit wins; a reaction's
 * last toggle wins). A change the server refuses (403, 409, a 404 after
 * NOT_FOUND_TRIES...) is dropped and reported through `onRejected`; one that
 * met no server, a 5xx or a 429 stays, in order, and is tried again.
 */
export class OutsideWindowOutbox {
  private readonly table: IdbTable<QueuedChange>;
  private flushing: Promise<void> | null = null;
  private again = false;
  /** The queue's rows are in memory (`keys`, `lastSeq`). */
  private readonly loaded: Promise<void>;
  /**
   * The newest queueing order given out, taken synchronously after `loaded`:
   * two changes queued in the same turn get different orders. (Handing out
   * a shared promise's value gave them the same one, so a send of the older
   * change took the newer one, which had replaced it, for itself and dropped
   * it: the renewal fuzz lost an edit that way under CI load.)
   */
  private lastSeq = 0;
  /** The keys that wait, mirrored in memory so `waiting` is synchronous. */
  private readonly keys = new Set<string>();
  private readonly notFound = new Map<string, number>();
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private retryMs = RETRY_MS;
  private stopped = false;

  constructor(
    dbName: string,
    persist: boolean,
    private readonly api: Pick<ApiClient, 'editMessage' | 'deleteMessage' | 'setReaction'>,
    private readonly hooks: { onRejected?: (rejection: OutboxRejection) => void; onSent?: (message: Message) => void } = {},
  ) {
    this.table = new IdbTable(dbName, persist);
    this.loaded = this.table.all().then((rows) => {
      for (const row of rows) this.keys.add(row.key);
      this.lastSeq = rows.reduce((max, r) => Math.max(max, r.value.seq), this.lastSeq);
    });
  }

  /** Queues a change durably (resolves once it is on this device's disk), then tries to send. */
  async enqueue(conversationId: string, messageId: string, change: OutsideWindowChange): Promise<void> {
    const key = keyOf(conversationId, messageId, change);
    await this.loaded;
    const seq = ++this.lastSeq;
    if (this.keys.size >= DEFAULTS.outsideWindowOutboxMax && !this.keys.has(key)) {
      throw new OutboxFull(`at most ${DEFAULTS.outsideWindowOutboxMax} changes to older messages wait`);
    }
    this.keys.add(key);
    this.notFound.delete(key);
    await this.table.put(key, { conversationId, messageId, change, seq });
    void this.flush();
  }

  /** Drops a queued edit of the message (it was deleted: the edit's text must not wait on disk). */
  async dropEdit(conversationId: string, messageId: string): Promise<void> {
    const key = keyOf(conversationId, messageId, { op: 'edit', text: '' });
    if (!this.keys.has(key)) return;
    await this.table.delete([key]);
    this.keys.delete(key);
    this.notFound.delete(key);
  }

    /** How many changes wait (synchronous; for a status line and tests). */
  get waiting(): number {
    return this.keys.size;
  }

  /** What waits, oldest first. */
  async pending(): Promise<QueuedChange[]> {
    return (await this.table.all()).map((r) => r.value).sort((a, b) => a.seq - b.seq);
  }

  /** Resolves once nothing waits and no flush runs (use with a timeout). */
  async drained(): Promise<void> {
    await this.loaded;
    while (this.keys.size > 0 || this.flushing) await new Promise((resolve) => setTimeout(resolve, 20));
  }

  /** Sends what waits, one change at a time, in order; one flush at a time (a call meanwhile runs another after it). */
  flush(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (this.flushing) {
      this.again = true;
      return this.flushing;
    }
    this.flushing = this.sendAll().finally(() => {
      this.flushing = null;
      if (this.again) {
        this.again = false;
        void this.flush();
      }
    });
    return this.flushing;
  }

  get dbName(): string {
    return this.table.dbName;
  }

  /** No more sending (the session ends); what waits stays on disk for the next session. */
  stop(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  close(): Promise<void> {
    this.stop();
    return this.table.close();
  }

  private async sendAll(): Promise<void> {
    for (const { key, value } of (await this.table.all()).sort((a, b) => a.value.seq - b.value.seq)) {
      if (this.stopped) return;
      try {
        const { message } = await this.send(value);
        this.hooks.onSent?.(message);
      } catch (error) {
        if (this.keptBack(key, error)) return this.retryLater(); // everything stays, in order
        const { status = 0, code = 'error' } = error as { status?: number; code?: string };
        this.hooks.onRejected?.({ conversationId: value.conversationId, messageId: value.messageId, change: value.change, status, code });
      }
      this.retryMs = RETRY_MS;
      this.notFound.delete(key);
      // Still the same change? A newer one of the same kind replaced it meanwhile: that one stays.
      const current = await this.table.get(key);
      if (current && current.seq === value.seq) {
        await this.table.delete([key]);
        this.keys.delete(key);
      }
    }
  }

  /** Worth trying again: no server, a busy or failing one, or a 404 for a message that may still arrive. */
  private keptBack(key: string, error: unknown): boolean {
    if (isNetworkFailure(error)) return true;
    const { status = 0 } = error as { status?: number };
    if (status === 429 || status >= 500 || status === 0) return true;
    if (status !== 404) return false;
    const tries = (this.notFound.get(key) ?? 0) + 1;
    this.notFound.set(key, tries);
    return tries < NOT_FOUND_TRIES;
  }

  private retryLater(): void {
    if (this.stopped || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.flush();
    }, this.retryMs);
    this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
  }

  private send({ conversationId, messageId, change }: QueuedChange): Promise<{ message: Message }> {
    switch (change.op) {
      case 'edit':
        return this.api.editMessage(conversationId, messageId, change.text);
      case 'delete':
        return this.api.deleteMessage(conversationId, messageId);
      case 'reaction':
        return this.api.setReaction(conversationId, messageId, change.emoji, change.on);
    }
  }
}

/** One entry per message and kind of change (per emoji for reactions): the newest replaces the older. */
function keyOf(conversationId: string, messageId: string, change: OutsideWindowChange): string {
  const kind = change.op === 'reaction' ? `reaction:${change.emoji}` : change.op;
  return `${conversationId}\n${messageId}\n${kind}`;
}

/** A message as it will be once the change lands (for showing a queued change at once). */
export function withChange(message: Message, userId: string, change: OutsideWindowChange, at = Date.now()): Message {
  switch (change.op) {
    case 'edit':
      return { ...message, text: change.text, editedAt: at };
    case 'delete':
      // As softDeleteMessage: the text, files and mentions go.
      return { ...message, text: '', ...(message.attachments && { attachments: [] }), ...(message.mentions && { mentions: [] }), deletedAt: at };
    case 'reaction': {
      const reactions = { ...message.reactions };
      if (change.on) reactions[reactionKey(userId, change.emoji)] = at;
      else delete reactions[reactionKey(userId, change.emoji)];
      return { ...message, reactions };
    }
  }
}

/** Makes the change on a live document that holds the message (a renewal's replay, a repost's kept changes). */
export function applyToMessage(doc: Y.Doc, me: string, messageId: string, change: OutsideWindowChange): void {
  switch (change.op) {
    case 'edit':
      editMessage(doc, messageId, change.text);
      return;
    case 'delete':
      softDeleteMessage(doc, messageId);
      return;
    case 'reaction':
      setReaction(doc, messageId, me, change.emoji, change.on);
      return;
  }
}
