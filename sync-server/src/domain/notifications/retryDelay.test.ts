import { describe, expect, it } from 'vitest';
import { DEFAULTS } from '@parley/schema';
import { retryDelay } from './retryDelay';

describe('retryDelay', () => {
  it('doubles from the base up to the max, with jitter between half and all of it', () => {
    expect(retryDelay(1, () => 1)).toBe(DEFAULTS.outboxRetryBaseMs);
    expect(retryDelay(1, () => 0)).toBe(DEFAULTS.outboxRetryBaseMs / 2);
    expect(retryDelay(3, () => 1)).toBe(4 * DEFAULTS.outboxRetryBaseMs);
    expect(retryDelay(50, () => 1)).toBe(DEFAULTS.outboxRetryMaxMs);
    for (let attempt = 1; attempt <= DEFAULTS.outboxMaxAttempts; attempt++) {
      const delay = retryDelay(attempt);
      expect(delay).toBeGreaterThan(0);
      expect(delay).toBeLessThanOrEqual(DEFAULTS.outboxRetryMaxMs);
    }
  });
});
