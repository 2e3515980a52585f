import { DEFAULTS } from '@parley/schema';

export interface RecomputeTimings {
  /** A burst of changes within this window is one run. */
  delayMs: number;
  /** One key runs at most once per this interval: a busy conversation's bursts grow instead. */
  minIntervalMs: number;
  /** After each run the queue rests this many times as long as the run took. */
  restFactor: number;
}

/**
 * Coalesces requests to recompute something per key and runs them one at a
 * time. A quiet key runs `delayMs` after its first request; a key that ran
 * less than `minIntervalMs` ago waits for the interval; after each run the
 * queue rests in proportion to what the run cost. So the work follows the
 * number of busy keys, not the number of changes, and under load it takes a
 * bounded share of the event loop from live traffic.
 */
export class RecomputeQueue {
  /** Keys due to run, with the time; insertion order is due order. */
  private readonly due = new Map<string, number>();
  /** Keys that ran too recently, waiting for their interval to pass. */
  private readonly throttled = new Map<string, NodeJS.Timeout>();
  private readonly lastRun = new Map<string, number>();
  private working: Promise<void> | null = null;
  private hurry = false;
  /** Ends the worker's current wait early (idle() hurries it). */
  private wakeUp: (() => void) | null = null;

  constructor(
    private readonly run: (key: string) => Promise<void>,
    private readonly timings: RecomputeTimings = {
      delayMs: DEFAULTS.chatNotifyDelayMs,
      minIntervalMs: DEFAULTS.chatNotifyMinIntervalMs,
      restFactor: DEFAULTS.chatNotifyRestFactor,
    },
  ) {}

  schedule(key: string): void {
    if (this.due.has(key) || this.throttled.has(key)) return;
    const ranAgo = Date.now() - (this.lastRun.get(key) ?? Number.NEGATIVE_INFINITY);
    const wait = this.timings.minIntervalMs - ranAgo - this.timings.delayMs;
    if (wait > 0 && !this.hurry) {
      const timer = setTimeout(() => {
        this.throttled.delete(key);
        this.enqueue(key);
      }, wait);
      this.throttled.set(key, timer);
      return;
    }
    this.enqueue(key);
  }

  /** Runs everything scheduled now, without the waits; resolves once nothing is due or running. */
  async idle(): Promise<void> {
    this.hurry = true;
    this.wakeUp?.();
    try {
      for (const [key, timer] of this.throttled) {
        clearTimeout(timer);
        this.throttled.delete(key);
        this.enqueue(key);
      }
      while (this.working) await this.working;
    } finally {
      this.hurry = false;
    }
  }

  private enqueue(key: string): void {
    this.due.set(key, Date.now() + this.timings.delayMs);
    if (this.working) return;
    this.working = this.work().finally(() => {
      this.working = null;
    });
  }

  private async work(): Promise<void> {
    while (this.due.size > 0) {
      const [key, at] = this.due.entries().next().value as [string, number];
      if (!this.hurry && at > Date.now()) await this.sleep(at - Date.now());
      this.due.delete(key);
      const started = performance.now();
      this.lastRun.set(key, Date.now());
      await this.run(key);
      this.forgetOldRuns();
      await this.sleep(this.hurry ? 0 : (performance.now() - started) * this.timings.restFactor);
    }
  }

  /** Waits `ms` (at least until the next turn of the event loop), or less if idle() hurries. */
  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        if (timer) clearTimeout(timer);
        this.wakeUp = null;
        resolve();
      };
      const timer = ms > 0 ? setTimeout(done, ms) : null;
      if (!timer) setImmediate(done);
      this.wakeUp = done;
    });
  }

  /** lastRun only matters within the interval; keep the map to the keys that are busy. */
  private forgetOldRuns(): void {
    if (this.lastRun.size < 1024) return;
    const before = Date.now() - this.timings.minIntervalMs;
    for (const [key, at] of this.lastRun) if (at < before) this.lastRun.delete(key);
  }
}
