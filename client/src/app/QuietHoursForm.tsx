import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { QuietHours, type Prefs } from '@parley/schema';
import { useSession } from '../react';

const browserTimeZone = (): string => Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

const timeZones = (): string[] => {
  const intl = Intl as typeof Intl & { supportedValuesOf?: (key: string) => string[] };
  return intl.supportedValuesOf?.('timeZone') ?? [browserTimeZone()];
};

/** `prefs.quietHours`: push and SMS wait for their end (CONTRACT section 7); the time zone defaults to the browser's. */
export function QuietHoursForm({ saved, ready }: { saved: Prefs['quietHours']; ready: boolean }) {
  const session = useSession();
  const [enabled, setEnabled] = useState(Boolean(saved));
  const [start, setStart] = useState(saved?.start ?? '22:00');
  const [end, setEnd] = useState(saved?.end ?? '07:00');
  const [tz, setTz] = useState(saved?.tz ?? browserTimeZone());
  const [note, setNote] = useState<string | null>(null);
  const zones = useMemo(timeZones, []);

  // Another device (or tab) changed them: show what is stored.
  useEffect(() => {
    setEnabled(Boolean(saved));
    if (saved) {
      setStart(saved.start);
      setEnd(saved.end);
      setTz(saved.tz);
    }
  }, [saved?.start, saved?.end, saved?.tz, Boolean(saved)]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!enabled) {
      await session.inbox.setQuietHours(null);
      setNote('Quiet hours are off.');
      return;
    }
    const parsed = QuietHours.safeParse({ start, end, tz });
    if (!parsed.success) {
      setNote(`Not saved: ${parsed.error.issues.map((i) => `${i.path.join('.')} must be ${i.message}`).join('; ')}.`);
      return;
    }
    await session.inbox.setQuietHours(parsed.data);
    setNote(`Saved: push and SMS wait from ${start} to ${end} (${tz}).`);
  };

  return (
    <form className="quiet-hours" aria-labelledby="quiet-title" onSubmit={(e) => void submit(e)}>
      <h3 id="quiet-title">Quiet hours</h3>
      <label>
        <input type="checkbox" checked={enabled} disabled={!ready} onChange={(e) => setEnabled(e.target.checked)} /> Hold push and SMS during quiet hours
      </label>
      <div className="quiet-fields">
        <label>
          From <input type="time" value={start} required disabled={!ready || !enabled} onChange={(e) => setStart(e.target.value)} />
        </label>
        <label>
          until <input type="time" value={end} required disabled={!ready || !enabled} onChange={(e) => setEnd(e.target.value)} />
        </label>
        <label>
          Time zone <input list="time-zones" value={tz} required disabled={!ready || !enabled} onChange={(e) => setTz(e.target.value)} />
        </label>
        <datalist id="time-zones">
          {zones.map((z) => (
            <option key={z} value={z} />
          ))}
        </datalist>
      </div>
      <button type="submit" disabled={!ready}>
        Save quiet hours
      </button>
      {note && (
        <p role="status" data-testid="quiet-note">
          {note}
        </p>
      )}
    </form>
  );
}
