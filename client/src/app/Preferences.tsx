import { channelsFor, isMuted, type Channels } from '@parley/schema';
import { useParley, useSession } from '../react';

/** The notification kinds of CONTRACT section 5, plus chat messages. */
const KINDS = ['new_message', 'new_job', 'new_quote', 'quote_accepted', 'quote_rejected', 'job_started', 'job_completed', 'payment_received', 'payment_failed', 'new_review', 'system'];
const CHANNELS: (keyof Channels)[] = ['inApp', 'push', 'email'];
const CHANNEL_NAMES: Record<keyof Channels, string> = { inApp: 'In app', push: 'Push', email: 'Email', sms: 'SMS' };
const MUTE_FOR_MS = 365 * 24 * 3600_000;
/** Channels this build does not deliver yet: the switch keeps the choice, the note says nothing is sent. */
const NOT_SENT_YET: (keyof Channels)[] = ['push', 'email'];

/** Kinds x channels, and muted conversations. */
export function Preferences() {
  const session = useSession();
  const prefs = useParley((s) => s.inbox.prefs);
  const ready = useParley((s) => s.inbox.prefsReady);
  const conversations = useParley((s) => s.conversations);

  const toggle = (kind: string, channel: keyof Channels) => {
    const current = channelsFor(prefs, kind);
    void session.inbox.setChannels(kind, { ...current, [channel]: !current[channel] });
  };

  return (
    <section className="prefs" aria-labelledby="prefs-title">
      <h2 id="prefs-title">Preferences</h2>
      {!ready && <p role="status">Preferences load on first connection.</p>}
      <p className="hint" id="delivery-note" data-testid="delivery-note">
        Push and email are not sent yet: this version delivers notifications in the app only. Your choices are kept for when they are.
      </p>
      <table aria-describedby="delivery-note">
        <caption>Notification channels</caption>
        <thead>
          <tr>
            <th scope="col">Kind</th>
            {CHANNELS.map((c) => (
              <th scope="col" key={c}>
                {CHANNEL_NAMES[c]}
                {NOT_SENT_YET.includes(c) && <span className="not-sent"> (not sent yet)</span>}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {KINDS.map((kind) => {
            const channels = channelsFor(prefs, kind);
            return (
              <tr key={kind}>
                <th scope="row">{kind.replace(/_/g, ' ')}</th>
                {CHANNELS.map((channel) => (
                  <td key={channel}>
                    <input
                      type="checkbox"
                      aria-label={`${kind.replace(/_/g, ' ')}: ${CHANNEL_NAMES[channel]}${NOT_SENT_YET.includes(channel) ? ' (not sent yet)' : ''}`}
                      checked={channels[channel]}
                      disabled={!ready}
                      onChange={() => toggle(kind, channel)}
                    />
                  </td>
                ))}
              </tr>
            );
          })}
        </tbody>
      </table>
      <h3>Muted conversations</h3>
      <ul className="muted-list">
        {conversations.map((c) => {
          const muted = isMuted(prefs, c.id);
          return (
            <li key={c.id}>
              <label>
                <input
                  type="checkbox"
                  checked={muted}
                  disabled={!ready}
                  onChange={() => void session.inbox.mute(c.id, muted ? null : Date.now() + MUTE_FOR_MS)}
                />{' '}
                Mute {c.title}
              </label>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
