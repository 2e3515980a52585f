import { DEFAULTS } from '@parley/schema';

export interface RecomputeTimings {
  /** A burst of changes within this window is one run. */
  delayMs: number;
  /**
   * A key runs again no sooner than this many times its last run's cost
   * (capped by maxIntervalMs): a cheap recompute may run often, an expensive
   * one (a big room) lets its bursts grow instead.
   */
  intervalFactor: number;
  maxIntervalMs: number;
  /** After each run the queue rests this many times as long as the run took. */
  restFactor: number;
}

/**
 * Coalesces requests to recompute something per key and runs them one at a
 * time. A quiet key runs `delayMs` after its first request; a key that ran
 * recently waits for an interval in proportion to what that run cost; after
 * each run the queue rests in proportion to its cost too. So the work follows the
 * number of busy keys, not the number of changes, and under load it takes a
 * bounded share of the event loop from live traffic.
 */
export class RecomputeQueue {
  /** Keys due to run, with the time; insertion order is due order. */
  private readonly due = new Map<string, number>();
  /** Keys that ran too recently, waiting for their interval to pass. */
  private readonly throttled = new Map<string, NodeJS.Timeout>();
  /** When each busy key last ran, and what that run cost (ms). */
  private readonly lastRun = new Map<string, { at: number; cost: number }>();
  private working: Promise<void> | null = null;
  private hurry = false;
  /** Ends the worker's current wait early (idle() hurries it). */
  private wakeUp: (() => void) | null = null;

  constructor(
    private readonly run: (key: string) => Promise<void>,
    private readonly timings: RecomputeTimings = {
      delayMs: DEFAULTS.chatNotifyDelayMs,
      intervalFactor: DEFAULTS.chatNotifyIntervalFactor,
      maxIntervalMs: DEFAULTS.chatNotifyMaxIntervalMs,
      restFactor: DEFAULTS.chatNotifyRestFactor,
    },
  ) {}

  schedule(key: string): void {
    if (this.due.has(key) || this.throttled.has(key)) return;
    const last = this.lastRun.get(key);
    const interval = last ? Math.min(this.timings.maxIntervalMs, last.cost * this.timings.intervalFactor) : 0;
    const wait = last ? last.at + interval - Date.now() - this.timings.delayMs : 0;
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
      const [key, dueAt] = this.due.entries().next().value as [string, number];
      if (!this.hurry && dueAt > Date.now()) await this.sleep(dueAt - Date.now());
      this.due.delete(key);
      const ranAt = Date.now();
      const started = performance.now();
      await this.run(key);
      const cost = performance.now() - started;
      this.lastRun.set(key, { at: ranAt, cost });
      this.forgetOldRuns();
      await this.sleep(this.hurry ? 0 : cost * this.timings.restFactor);
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
    const before = Date.now() - this.timings.maxIntervalMs;
    for (const [key, last] of this.lastRun) if (last.at < before) this.lastRun.delete(key);
  }
}
