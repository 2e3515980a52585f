import { DEFAULTS } from '@parley/schema';

/**
 * How long an event waits after its n-th failed attempt: exponential backoff
 * (base * 2^(n-1), at most the max) with jitter (half to all of it), so events
 * that failed together do not all come back in the same tick.
 */
export function retryDelay(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(DEFAULTS.outboxRetryMaxMs, DEFAULTS.outboxRetryBaseMs * 2 ** (attempt - 1));
  return Math.round(ceiling * (0.5 + random() / 2));
}
