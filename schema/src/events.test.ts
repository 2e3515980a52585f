import { describe, expect, it } from 'vitest';
import { EventEnvelope } from './events';

const base = { id: 'e1', type: 'job.created', subject: { type: 'job', id: 'j1' } };

describe('EventEnvelope.occurredAt', () => {
  it('accepts ISO 8601 dates and date-times, and ms epochs', () => {
    for (const occurredAt of ['2026-11-22T03:00:00Z', '2026-11-22T03:00:00.123Z', '2026-11-22T04:00:00+01:00', '2026-11-22', 1795315969759]) {
      expect(EventEnvelope.safeParse({ ...base, occurredAt }).success, String(occurredAt)).toBe(true);
    }
  });

  it('refuses anything else', () => {
    for (const occurredAt of ['yesterday', '2026-13-45T00:00:00Z', '', -1, 1.5, null]) {
      expect(EventEnvelope.safeParse({ ...base, occurredAt }).success, String(occurredAt)).toBe(false);
    }
  });
});
