import { describe, expect, it } from 'vitest';
import { DEFAULTS } from '@parley/schema';
import { retryDelay } from './retryDelay';

describe('retryDelay', () => {
  it('doubles from the base up to the max, with jitter between half and all of it', () => {
    expect(retryDelay(1, () => 1)).toBe(DEFAULTS.jobRetryBaseMs);
    expect(retryDelay(1, () => 0)).toBe(DEFAULTS.jobRetryBaseMs / 2);
    expect(retryDelay(3, () => 1)).toBe(4 * DEFAULTS.jobRetryBaseMs);
    expect(retryDelay(50, () => 1)).toBe(DEFAULTS.jobRetryMaxMs);
    for (let attempt = 1; attempt <= DEFAULTS.jobMaxAttempts; attempt++) {
      const delay = retryDelay(attempt);
      expect(delay).toBeGreaterThan(0);
      expect(delay).toBeLessThanOrEqual(DEFAULTS.jobRetryMaxMs);
    }
  });
});
