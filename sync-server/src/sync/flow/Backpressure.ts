import type { WebSocket } from 'ws';
import { DEFAULTS } from '@parley/schema';
import type { Pausable } from './ReadValve';

/** How often a held socket is looked at while its unread answers drain. */
const POLL_MS = 20;

/**
 * Back-pressure on one socket. A request is answered only while the socket
 * has less than `DEFAULTS.wsBufferedHighBytes` waiting to be sent: past it,
 * the socket stops being read and what was already read waits here, in order,
 * until the client has read its answers down to the low mark. A client that
 * asks for large answers and never reads them therefore costs at most the high
 * mark plus one answer, instead of every answer it asked for.
 *
 * The server reads one message per turn (`allowSynchronousEvents: false`), so
 * the answer to a message is already counted in `bufferedAmount` when the next
 * one arrives. A socket over the hard cap, or whose buffer does not shrink for
 * `DEFAULTS.wsStalledMaxMs`, is a stalled reader: `onStalled` closes it.
 */
export class Backpressure {
  private readonly waiting: Uint8Array[] = [];
  private holding = false;
  /** Over the high mark, waiting for the low one. */
  private draining = false;
  private lastBuffered = 0;
  private lastProgressAt = 0;
  private timeout: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  private stopped = false;

  constructor(
    private readonly ws: Pick<WebSocket, 'bufferedAmount'>,
    private readonly valve: Pausable,
    private readonly deliver: (data: Uint8Array) => void,
    private readonly onStalled: () => void,
  ) {}

  /** Call once per incoming message, in order. */
  push(data: Uint8Array): void {
    if (this.stopped) return;
    if (!this.holding && this.ws.bufferedAmount <= DEFAULTS.wsBufferedHighBytes) return this.deliver(data);
    this.waiting.push(data);
    if (this.holding) return;
    this.holding = true;
    this.draining = true;
    this.valve.pause();
    this.lastBuffered = this.ws.bufferedAmount;
    this.lastProgressAt = Date.now();
    this.schedule(POLL_MS);
  }

  /** The socket closed: drop what waits and stop looking. */
  stop(): void {
    this.stopped = true;
    this.waiting.length = 0;
    if (this.timeout) clearTimeout(this.timeout);
    if (this.immediate) clearImmediate(this.immediate);
    this.timeout = this.immediate = null;
  }

  private schedule(delayMs: number): void {
    if (delayMs > 0) this.timeout = setTimeout(this.poll, delayMs).unref();
    else this.immediate = setImmediate(this.poll);
  }

  private readonly poll = (): void => {
    this.timeout = this.immediate = null;
    if (this.stopped) return;
    const buffered = this.ws.bufferedAmount;
    const now = Date.now();
    if (buffered < this.lastBuffered) this.lastProgressAt = now;
    this.lastBuffered = buffered;
    const stalled = buffered > DEFAULTS.wsBufferedLowBytes && now - this.lastProgressAt > DEFAULTS.wsStalledMaxMs;
    if (buffered > DEFAULTS.wsBufferedMaxBytes || stalled) {
      this.stop();
      return this.onStalled();
    }
    // Over the high mark: wait until the client has read down to the low mark.
    if (buffered > DEFAULTS.wsBufferedHighBytes) this.draining = true;
    if (this.draining && buffered > DEFAULTS.wsBufferedLowBytes) return this.schedule(POLL_MS);
    this.draining = false;
    // Hand on one message per turn, so its answer is counted before the next is handed on.
    const next = this.waiting.shift();
    if (next) {
      this.deliver(next);
      return this.schedule(0);
    }
    this.holding = false;
    this.valve.resume();
  };
}
