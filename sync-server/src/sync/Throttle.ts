import { DEFAULTS } from '@parley/schema';
import { RateLimiter } from './RateLimiter';
import type { Pausable } from './flow/ReadValve';

/**
 * Per-socket flow control. Past the rate, the socket stops being read until
 * the bucket refills: TCP pushes back on the sender and nothing is lost, so an
 * honest burst is only slowed. A socket that stays over the rate for
 * `DEFAULTS.throttleMaxMs` is a flood: `onFlood` closes it with `rate-limited`.
 *
 * Pausing the socket does not stop the messages already read from it (one
 * read holds up to 64 KiB, over a thousand small messages), so every message
 * is charged, the bucket goes into debt, and the socket stays paused until the
 * debt is paid: the rate holds on average, however many arrive per read.
 */
export class Throttle {
  private readonly limiter = new RateLimiter(DEFAULTS.messagesPerSecondPerConnection, DEFAULTS.messagesBurstPerConnection);
  private throttledSince: number | null = null;
  /** The last message that came over the rate. */
  private lastOverAt = 0;
  private paused = false;
  private flooded = false;

  constructor(
    private readonly ws: Pausable,
    private readonly onFlood: () => void,
  ) {}

  /** Call once per incoming message. */
  admit(): void {
    const now = Date.now();
    if (this.limiter.borrow() === 0) {
      // Calm means nothing over the rate for a while. Tokens in the bucket do not: on a busy
      // server a late resume timer refills the bucket even while the client floods straight on.
      if (this.throttledSince !== null && now - this.lastOverAt > DEFAULTS.throttleCalmMs) this.throttledSince = null;
      return;
    }
    this.lastOverAt = now;
    this.throttledSince ??= now;
    if (now - this.throttledSince > DEFAULTS.throttleMaxMs) {
      // Messages already read keep arriving until the socket closes: close it once.
      if (!this.flooded) this.onFlood();
      this.flooded = true;
      return;
    }
    if (this.paused) return;
    this.paused = true;
    this.ws.pause();
    this.resumeWhenPaid();
  }

  private resumeWhenPaid(): void {
    const waitMs = this.limiter.msUntilPaid();
    if (waitMs > 0) {
      setTimeout(() => this.resumeWhenPaid(), Math.max(1, Math.ceil(waitMs))).unref();
      return;
    }
    this.paused = false;
    // A long pause is not calm: the calm period starts when the socket is read again.
    this.lastOverAt = Date.now();
    this.ws.resume();
  }
}
