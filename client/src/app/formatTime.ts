/**
 * A ms epoch as a `<time>` needs it, or null when it is no date at all. The
 * values come from shared documents that any member (or a replica of an
 * older server) may have filled with anything: `new Date(1e300).toISOString()`
 * throws, and one throw while rendering used to blank the whole app.
 */
export function formatTime(ms: unknown, style: 'time' | 'dateTime'): { iso: string; label: string } | null {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return null;
  const date = new Date(ms);
  if (Number.isNaN(date.getTime())) return null; // beyond ±8.64e15 ms
  const label = style === 'time' ? date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) : date.toLocaleString();
  return { iso: date.toISOString(), label };
}
