import { DEFAULTS } from '@parley/schema';
import { ApiError, type ApiClient } from './ApiClient';

/** A change to a message that is not in the live document (it left the window): made through the REST API. */
export type OutsideOp =
  | { kind: 'edit'; conversationId: string; id: string; text: string }
  | { kind: 'delete'; conversationId: string; id: string }
  | { kind: 'react'; conversationId: string; id: string; emoji: string; on: boolean }
  | { kind: 'read'; conversationId: string; id: string };

/** How long to wait before retrying an operation that met no server (offline) or a 5xx. */
const RETRY_MS = 2_000;
/**
 * A 404 is retried this many times first: the message may be one of this
 * replica's own, on its way to the server again after a renewal.
 */
const NOT_FOUND_TRIES = 5;

/**
 * Edits, soft deletions, reactions and receipts on messages outside the live
 * window (issue 9, item 2), in the order made, through the REST API, which
 * judges them by the same rules as the live document. While the server is
 * unreachable they wait and are retried; the server's refusal (4xx) of one
 * is reported and it is dropped. Every operation sets a state (a text, a
 * deletion, a reaction on or off), so one that reached the server but whose
 * answer was lost is harmless to send again. At most
 * `DEFAULTS.sdkPendingOutsideOpsMax` wait; older ones are dropped first.
 */
export class OutsideWindow {
  private readonly queue: OutsideOp[] = [];
  private notFound = 0;
  private running = false;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly api: ApiClient,
    private readonly report: (op: OutsideOp, error: ApiError) => void,
  ) {}

  get pending(): number {
    return this.queue.length;
  }

  push(op: OutsideOp): void {
    this.queue.push(op);
    if (this.queue.length > DEFAULTS.sdkPendingOutsideOpsMax) this.queue.shift();
    void this.run();
  }

  /** Resolves once nothing waits (use with a timeout). */
  async drained(): Promise<void> {
    while (this.queue.length > 0 || this.running) await new Promise((resolve) => setTimeout(resolve, 20));
  }

  /** Try again now (the session came back online). */
  kick(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    void this.run();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.queue.length = 0;
  }

  private async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.queue.length > 0) {
        const op = this.queue[0]!;
        try {
          await send(this.api, op);
        } catch (error) {
          const retryable404 = error instanceof ApiError && error.status === 404 && ++this.notFound < NOT_FOUND_TRIES;
          if (error instanceof ApiError && error.status >= 400 && error.status < 500 && error.status !== 429 && !retryable404) {
            this.report(op, error);
          } else {
            this.timer ??= setTimeout(() => this.kick(), RETRY_MS);
            return;
          }
        }
        this.notFound = 0;
        this.queue.shift();
      }
    } finally {
      this.running = false;
    }
  }
}

function send(api: ApiClient, op: OutsideOp): Promise<unknown> {
  const path = `/conversations/${encodeURIComponent(op.conversationId)}/messages/${encodeURIComponent(op.id)}`;
  switch (op.kind) {
    case 'edit':
      return api.request('PATCH', path, { text: op.text });
    case 'delete':
      return api.request('DELETE', path);
    case 'react':
      return api.request(op.on ? 'PUT' : 'DELETE', `${path}/reactions/${encodeURIComponent(op.emoji)}`);
    case 'read':
      return api.request('POST', `/conversations/${encodeURIComponent(op.conversationId)}/read`, { messageId: op.id });
  }
}
