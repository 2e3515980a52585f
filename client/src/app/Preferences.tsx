import { channelsFor, isMuted, type ChannelChoice } from '@parley/schema';
import { useState } from 'react';
import { useParley, useSession } from '../react';
import { storedLogin } from './auth';
import { friendlyError } from './friendlyError';
import { PushSettings } from './PushSettings';
import { QuietHoursForm } from './QuietHoursForm';
import { emailClaim } from './tokenClaims';
import { useBlocks } from './useBlocks';

/** The notification kinds of CONTRACT section 5, plus chat messages. */
const KINDS = ['new_message', 'mention', 'report_handled', 'new_job', 'new_quote', 'quote_accepted', 'quote_rejected', 'job_started', 'job_completed', 'payment_received', 'payment_failed', 'new_review', 'system'];
const CHANNELS: (keyof ChannelChoice)[] = ['inApp', 'push', 'email', 'sms'];
const CHANNEL_NAMES: Record<keyof ChannelChoice, string> = { inApp: 'In app', push: 'Push', email: 'Email', sms: 'SMS' };
const MUTE_FOR_MS = 365 * 24 * 3600_000;

/** Kinds x channels, push on this device, quiet hours, where email goes, and muted conversations. */
export function Preferences() {
  const session = useSession();
  const prefs = useParley((s) => s.inbox.prefs);
  const ready = useParley((s) => s.inbox.prefsReady);
  const conversations = useParley((s) => s.conversations);

  const email = emailClaim(storedLogin()?.token);

  const toggle = (kind: string, channel: keyof ChannelChoice) => {
    const current = channelsFor(prefs, kind);
    void session.inbox.setChannels(kind, { ...current, [channel]: !current[channel] });
  };

  return (
    <section className="prefs" aria-labelledby="prefs-title">
      <h2 id="prefs-title">Preferences</h2>
      {!ready && <p role="status">Preferences load on first connection.</p>}
      <p className="hint" id="delivery-note" data-testid="delivery-note">
        Everything shows in the app. While you are away, an unread notification is pushed to your devices after a few seconds, goes into an email digest
        after a few minutes, and by SMS only for the kinds you turn it on for.
      </p>
      <p data-testid="email-address">
        {email ? (
          <>
            Email digests go to <strong>{email}</strong>.
          </>
        ) : (
          'No email address is known for you: your sign-in carries none, so no email is sent.'
        )}
      </p>
      <table aria-describedby="delivery-note">
        <caption>Notification channels</caption>
        <thead>
          <tr>
            <th scope="col">Kind</th>
            {CHANNELS.map((c) => (
              <th scope="col" key={c}>
                {CHANNEL_NAMES[c]}
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
                      aria-label={`${kind.replace(/_/g, ' ')}: ${CHANNEL_NAMES[channel]}`}
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
      <PushSettings />
      <QuietHoursForm saved={prefs.quietHours} ready={ready} />
      <BlockedUsers />
      <p className="hint">
        Moderators: <a href="#/admin/reports">open reports</a>.
      </p>
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

/** The users this user blocks, each with Unblock (issue 14). */
function BlockedUsers() {
  const session = useSession();
  const blocks = useBlocks();
  const [error, setError] = useState<string | null>(null);
  return (
    <>
      <h3 id="blocked-title">Blocked users</h3>
      {blocks.length === 0 ? (
        <p className="hint">You block nobody. Block someone from a conversation's details.</p>
      ) : (
        <ul className="blocked-list" aria-labelledby="blocked-title" data-testid="blocked-list">
          {blocks.map((b) => (
            <li key={b.userId}>
              {b.name && b.name !== b.userId ? `${b.name} (${b.userId})` : b.userId}{' '}
              <button type="button" aria-label={`Unblock ${b.userId}`} onClick={() => session.blocks.unblock(b.userId).then(() => setError(null), (e: unknown) => setError(friendlyError(e)))}>
                Unblock
              </button>
            </li>
          ))}
        </ul>
      )}
      {error && <p role="alert">{error}</p>}
    </>
  );
}
