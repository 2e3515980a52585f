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

describe('EventEnvelope bounds', () => {
  it('refuses times before 1970 and far ahead, which could never be applied', () => {
    for (const occurredAt of ['1969-12-31T23:59:59Z', '0001-01-01', -86_400_000, 1e300, Date.now() + 2 * 24 * 3600_000]) {
      expect(EventEnvelope.safeParse({ ...base, occurredAt }).success, String(occurredAt)).toBe(false);
    }
    expect(EventEnvelope.safeParse({ ...base, occurredAt: '1970-01-01T00:00:00Z' }).success).toBe(true);
  });

  it('refuses ids in data and job subjects that are not ids', () => {
    const long = 'x'.repeat(10_000);
    for (const data of [{ jobId: long }, { jobId: '../etc' }, { jobId: 'j'.repeat(61) }, { jobId: 12 }, { payeeId: '../x' }, { professionalId: '' }, { revieweeId: long }]) {
      expect(EventEnvelope.safeParse({ ...base, type: 'quote.sent', occurredAt: 0, subject: { type: 'quote', id: 'q' }, data }).success, JSON.stringify(data).slice(0, 40)).toBe(false);
    }
    expect(EventEnvelope.safeParse({ ...base, occurredAt: 0, subject: { type: 'job', id: 'j'.repeat(61) } }).success).toBe(false);
    expect(EventEnvelope.safeParse({ ...base, occurredAt: 0, subject: { type: 'job', id: 'j'.repeat(60) }, data: { jobId: 'J-1.x', title: '../ok' } }).success).toBe(true);
  });
});
