/**
 * Reconnect later, not now: for closes after which the replicas are intact
 * and a quick retry would only meet the same answer (the server could not
 * store an update, or closed the socket for its rate). One reconnect covers
 * every close meanwhile; while the closes go on the wait doubles up to a cap,
 * and a close after a quiet spell starts short again.
 */
export class ReconnectBackoff {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private delayMs: number;
  private lastFailure = 0;

  constructor(
    private readonly reconnect: () => void,
    private readonly baseMs: number,
    private readonly maxMs: number,
  ) {
    this.delayMs = baseMs;
  }

  failed(): void {
    const now = Date.now();
    if (now - this.lastFailure > this.maxMs * 2) this.delayMs = this.baseMs;
    this.lastFailure = now;
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.reconnect();
    }, this.delayMs);
    this.delayMs = Math.min(this.delayMs * 2, this.maxMs);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
