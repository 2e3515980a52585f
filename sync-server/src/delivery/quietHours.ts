import type { QuietHours } from '@parley/schema';

const MINUTES_PER_DAY = 24 * 60;
const minutesOf = (hhmm: string): number => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** The wall clock in a zone at `now`: minutes since local midnight, and the ms into the current minute. */
function localClock(tz: string, now: number): { minutes: number; intoMinuteMs: number } {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone: tz, hourCycle: 'h23', hour: '2-digit', minute: '2-digit', second: '2-digit' }).formatToParts(new Date(now));
  const part = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return { minutes: part('hour') * 60 + part('minute'), intoMinuteMs: part('second') * 1000 + (now % 1000) };
}

/**
 * When the quiet hours that hold `now` end (ms epoch), or null when `now` is
 * outside them (or they are empty: start equal to end). `start` after `end`
 * spans midnight (22:00-07:00). The end is computed on the local wall clock,
 * so across a change of daylight saving time it may be an hour off; the job
 * that waits for it checks again when it runs and waits once more if needed.
 */
export function quietHoursEnd(quiet: QuietHours | null | undefined, now: number): number | null {
  if (!quiet) return null;
  const start = minutesOf(quiet.start);
  const end = minutesOf(quiet.end);
  if (start === end) return null;
  const { minutes, intoMinuteMs } = localClock(quiet.tz, now);
  const inside = start < end ? minutes >= start && minutes < end : minutes >= start || minutes < end;
  if (!inside) return null;
  const minutesLeft = (end - minutes + MINUTES_PER_DAY) % MINUTES_PER_DAY;
  return now + minutesLeft * 60_000 - intoMinuteMs;
}
