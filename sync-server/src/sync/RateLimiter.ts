/**
 * A token bucket: `ratePerSecond` sustained, `burst` at once. Used per socket
 * so one client cannot flood the server with sync or awareness messages.
 */
export class RateLimiter {
  private tokens: number;
  private last = performance.now();

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
  ) {
    this.tokens = burst;
  }

  /** Milliseconds until one token is back. */
  msUntilNext(): number {
    return Math.max(0, ((1 - this.tokens) / this.ratePerSecond) * 1000);
  }

  /** Takes one token; false when the bucket is empty. */
  take(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Tokens in hand now; negative while in debt. */
  available(): number {
    this.refill();
    return this.tokens;
  }

  /**
   * Takes one token even from an empty bucket, going into debt: for work that
   * is already here and cannot be refused. Returns the milliseconds until the
   * debt is paid off (0 when there is none).
   */
  borrow(): number {
    this.refill();
    this.tokens -= 1;
    return this.msUntilPaid();
  }

  /** Milliseconds until the bucket is out of debt. */
  msUntilPaid(): number {
    this.refill();
    return this.tokens >= 0 ? 0 : (-this.tokens / this.ratePerSecond) * 1000;
  }

  private refill(): void {
    const now = performance.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.ratePerSecond);
    this.last = now;
  }
}
