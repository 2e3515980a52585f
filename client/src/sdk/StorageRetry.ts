import { DEFAULTS } from '@parley/schema';

/**
 * The server closed a document because it could not store an update (its disk
 * is full): nothing is wrong with the replica, so it is kept, and the session
 * reconnects later, which resends everything the server lacks. One reconnect
 * covers every document closed meanwhile; while the failures go on the wait
 * doubles up to a cap, and a failure after a quiet spell starts short again.
 */
export class StorageRetry {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private delayMs: number;
  private lastFailure = 0;

  constructor(
    private readonly reconnect: () => void,
    private readonly baseMs: number = DEFAULTS.storageRetryMs,
    private readonly maxMs: number = DEFAULTS.storageRetryMaxMs,
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
