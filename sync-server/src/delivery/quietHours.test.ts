import { describe, expect, it } from 'vitest';
import { quietHoursEnd } from './quietHours';

const at = (iso: string) => Date.parse(iso);

describe('quietHoursEnd', () => {
  it('is null outside the hours, without them, and when start equals end', () => {
    expect(quietHoursEnd(null, at('2026-03-01T12:00:00Z'))).toBeNull();
    expect(quietHoursEnd({ start: '22:00', end: '07:00', tz: 'UTC' }, at('2026-03-01T12:00:00Z'))).toBeNull();
    expect(quietHoursEnd({ start: '09:00', end: '09:00', tz: 'UTC' }, at('2026-03-01T09:30:00Z'))).toBeNull();
    expect(quietHoursEnd({ start: '22:00', end: '07:00', tz: 'UTC' }, at('2026-03-01T07:00:00Z'))).toBeNull();
  });

  it('ends at the local end, across midnight', () => {
    expect(quietHoursEnd({ start: '22:00', end: '07:00', tz: 'UTC' }, at('2026-03-01T23:15:30.250Z'))).toBe(at('2026-03-02T07:00:00Z'));
    expect(quietHoursEnd({ start: '22:00', end: '07:00', tz: 'UTC' }, at('2026-03-02T03:00:00Z'))).toBe(at('2026-03-02T07:00:00Z'));
    expect(quietHoursEnd({ start: '13:00', end: '14:00', tz: 'UTC' }, at('2026-03-01T13:59:59Z'))).toBe(at('2026-03-01T14:00:00Z'));
  });

  it('reads the wall clock of the user zone', () => {
    // 21:30 UTC is 22:30 in Paris (winter, UTC+1): quiet until 07:00 Paris = 06:00 UTC.
    expect(quietHoursEnd({ start: '22:00', end: '07:00', tz: 'Europe/Paris' }, at('2026-01-10T21:30:00Z'))).toBe(at('2026-01-11T06:00:00Z'));
    // 22:30 UTC is 17:30 in New York: not quiet.
    expect(quietHoursEnd({ start: '22:00', end: '07:00', tz: 'America/New_York' }, at('2026-01-10T22:30:00Z'))).toBeNull();
    // Half-hour zones: 17:00 UTC is 22:30 in Kolkata.
    expect(quietHoursEnd({ start: '22:00', end: '23:00', tz: 'Asia/Kolkata' }, at('2026-01-10T17:00:00Z'))).toBe(at('2026-01-10T17:30:00Z'));
  });
});
