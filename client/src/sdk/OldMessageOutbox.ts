import { DEFAULTS, reactionKey, type Message } from '@parley/schema';
import { IdbTable } from './IdbTable';
import { isNetworkFailure } from './HistoryCache';
import type { ApiClient } from './ApiClient';

/** A change to a message outside the live replica, sent over the REST message calls. */
export type OldMessageChange =
  | { op: 'edit'; text: string }
  | { op: 'delete' }
  | { op: 'reaction'; emoji: string; on: boolean };

interface QueuedChange {
  conversationId: string;
  messageId: string;
  change: OldMessageChange;
  /** Order of queueing: changes are sent oldest first. */
  seq: number;
}

export interface OutboxRejection {
  conversationId: string;
  messageId: string;
  change: OldMessageChange;
  status: number;
  code: string;
}

/** The outbox is full (DEFAULTS.oldMessageOutboxMax): the change is refused, not queued. */
export class OutboxFull extends Error {}

/**
 * Changes to messages that are not in the live replica (older history:
 * edits, soft deletions, own reactions), queued durably in IndexedDB while
 * offline and sent over `PATCH`, `DELETE` and `PUT`/`DELETE .../reactions`
 * when the server answers (issue 9). Exactly once in effect: each call is
 * idempotent on the server (an edit to the same text, deleting a deleted
 * message, adding a present reaction change nothing), and a change leaves
 * the outbox only after the server answered it, so a crash or a lost answer
 * means a harmless resend, never a loss. Later changes of the same kind to
 * the same message replace earlier ones (the last edit wins; a reaction's last
 * toggle wins). A change the server refuses (403, 404, 409...) is dropped and
 * reported through `onRejected`; a network failure keeps it for the next flush.
 */
export class OldMessageOutbox {
  private readonly table: IdbTable<QueuedChange>;
  private flushing: Promise<void> | null = null;
  private again = false;
  private nextSeq: Promise<number>;

  constructor(
    dbName: string,
    persist: boolean,
    private readonly api: Pick<ApiClient, 'editMessage' | 'deleteMessage' | 'setReaction'>,
    private readonly hooks: { onRejected?: (rejection: OutboxRejection) => void; onSent?: (message: Message) => void } = {},
  ) {
    this.table = new IdbTable(dbName, persist);
    this.nextSeq = this.table.all().then((rows) => rows.reduce((max, r) => Math.max(max, r.value.seq), 0) + 1);
  }

  /** Queues a change durably (resolves once it is on this device's disk), then tries to send. */
  async enqueue(conversationId: string, messageId: string, change: OldMessageChange): Promise<void> {
    const key = keyOf(conversationId, messageId, change);
    const queued = await this.table.all();
    if (queued.length >= DEFAULTS.oldMessageOutboxMax && !queued.some((q) => q.key === key)) throw new OutboxFull(`at most ${DEFAULTS.oldMessageOutboxMax} changes wait offline`);
    const seq = await this.nextSeq;
    this.nextSeq = Promise.resolve(seq + 1);
    await this.table.put(key, { conversationId, messageId, change, seq });
    void this.flush();
  }

  /** What waits, oldest first. */
  async pending(): Promise<QueuedChange[]> {
    return (await this.table.all()).map((r) => r.value).sort((a, b) => a.seq - b.seq);
  }

  /** Sends what waits, one change at a time, in order; one flush at a time (a call meanwhile runs another after it). */
  flush(): Promise<void> {
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

  close(): Promise<void> {
    return this.table.close();
  }

  private async sendAll(): Promise<void> {
    for (const { key, value } of (await this.table.all()).sort((a, b) => a.value.seq - b.value.seq)) {
      try {
        const { message } = await this.send(value);
        this.hooks.onSent?.(message);
      } catch (error) {
        if (isNetworkFailure(error)) return; // offline: everything stays, in order, for the next flush
        const { status = 0, code = 'error' } = error as { status?: number; code?: string };
        // Busy or failing server: keep it and stop; the next flush (reconnect, online) tries again.
        if (status === 429 || status >= 500 || status === 0) return;
        this.hooks.onRejected?.({ conversationId: value.conversationId, messageId: value.messageId, change: value.change, status, code });
      }
      // Still the same change? A newer one of the same kind replaced it meanwhile: that one stays.
      const current = await this.table.get(key);
      if (current && current.seq === value.seq) await this.table.delete([key]);
    }
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
function keyOf(conversationId: string, messageId: string, change: OldMessageChange): string {
  const kind = change.op === 'reaction' ? `reaction:${change.emoji}` : change.op;
  return `${conversationId}\n${messageId}\n${kind}`;
}

/** A message as it will be once the change lands (for showing a queued change at once). */
export function withChange(message: Message, userId: string, change: OldMessageChange, at = Date.now()): Message {
  switch (change.op) {
    case 'edit':
      return { ...message, text: change.text, editedAt: at };
    case 'delete':
      return { ...message, text: '', deletedAt: at };
    case 'reaction': {
      const reactions = { ...message.reactions };
      if (change.on) reactions[reactionKey(userId, change.emoji)] = at;
      else delete reactions[reactionKey(userId, change.emoji)];
      return { ...message, reactions };
    }
  }
}
