/**
 * When a recurring job runs: `next(now)` is the start of the first slot after
 * `now`. Slots are fixed on the clock (not "interval after the last run"), so
 * every server and every restart agrees on them, and the store fires each
 * slot once (JobStore.fireSchedule). A cron rule is another `next`.
 */
export interface Schedule {
  next(now: number): number;
}

/** Every `ms`, on multiples of it since the epoch (shifted by `offsetMs`). */
export function every(ms: number, offsetMs = 0): Schedule {
  if (!Number.isFinite(ms) || ms <= 0) throw new Error(`a schedule needs a positive interval, not ${ms}`);
  return { next: (now) => Math.floor((now - offsetMs) / ms) * ms + ms + offsetMs };
}
