import type { PresenceState } from '../sdk/Session';
import { formatTime } from './formatTime';

/** "last seen 5 min ago", or null when never seen. */
export function lastSeenLabel(at: number | null, now = Date.now()): string | null {
  if (at === null || !formatTime(at, 'time')) return null;
  const minutes = Math.max(0, Math.round((now - at) / 60_000));
  if (minutes < 1) return 'last seen just now';
  if (minutes < 60) return `last seen ${minutes} min ago`;
  if (minutes < 24 * 60) return `last seen at ${formatTime(at, 'time')!.label}`;
  return `last seen ${formatTime(at, 'dateTime')!.label}`;
}

/** What a contact's presence says in words: online, last seen, or unknown while this device is offline. */
export function presenceText(presence: PresenceState, lastSeenAt: number | null): string {
  if (presence === 'online') return 'online';
  if (presence === 'unknown') return 'presence unknown while you are offline';
  return lastSeenLabel(lastSeenAt) ?? 'offline';
}

/** The dot in the conversation list: green only when this device knows the contact is online. */
export function PresenceDot({ presence, lastSeenAt }: { presence: PresenceState; lastSeenAt: number | null }) {
  const text = presenceText(presence, lastSeenAt);
  return <span className={`dot ${presence}`} role="img" aria-label={text} title={text} data-testid="presence" data-online={presence === 'online'} data-presence={presence} />;
}

/** The line under a conversation's title: "online", "last seen …" or unknown. */
export function PresenceLine({ presence, lastSeenAt }: { presence: PresenceState; lastSeenAt: number | null }) {
  return (
    <span className="presence-line" data-testid="presence-line" data-presence={presence}>
      {presenceText(presence, lastSeenAt)}
    </span>
  );
}
