import { DEFAULTS } from '@parley/schema';

/**
 * How long a job waits after its n-th failed attempt: exponential backoff
 * (base * 2^(n-1), at most the max) with jitter (half to all of it), so jobs
 * that failed together do not all come back in the same tick.
 */
export function retryDelay(
  attempt: number,
  random: () => number = Math.random,
  bounds: { baseMs: number; maxMs: number } = { baseMs: DEFAULTS.jobRetryBaseMs, maxMs: DEFAULTS.jobRetryMaxMs },
): number {
  const ceiling = Math.min(bounds.maxMs, bounds.baseMs * 2 ** (attempt - 1));
  return Math.round(ceiling * (0.5 + random() / 2));
}
