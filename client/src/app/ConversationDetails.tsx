import { isMuted } from '@parley/schema';
import { useState, type FormEvent } from 'react';
import { useParley, useSession } from '../react';
import { Avatar } from './Avatar';
import { friendlyError } from './friendlyError';
import { go } from './useHashRoute';
import { parseUserIds, USER_ID_HINT } from './userIds';
import { useBlocks } from './useBlocks';

const MUTE_FOR_MS = 365 * 24 * 3600_000;

/**
 * A conversation's details, opened from its header: members (owners add and
 * remove them; anyone blocks or unblocks another member), rename (owners,
 * groups only), mute and leave.
 */
export function ConversationDetails({ id, onClose }: { id: string; onClose: () => void }) {
  const session = useSession();
  const me = session.identity.userId;
  const snapshot = useParley((s) => (s.activeId === id ? s.active : null));
  const title = useParley((s) => s.conversations.find((c) => c.id === id)?.title ?? id);
  const prefs = useParley((s) => s.inbox.prefs);
  const prefsReady = useParley((s) => s.inbox.prefsReady);
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const members = Object.entries(snapshot?.members ?? {}).sort(([a], [b]) => a.localeCompare(b));
  const kind = snapshot?.meta?.kind ?? 'direct';
  const owner = snapshot?.members[me]?.role === 'owner';
  const muted = isMuted(prefs, id);
  const blocked = new Set(useBlocks().map((b) => b.userId));

  const run = async (what: () => Promise<unknown>, done: string) => {
    setError(null);
    setStatus(null);
    try {
      await what();
      setStatus(done);
      return true;
    } catch (e) {
      setError(friendlyError(e));
      return false;
    }
  };
  const [confirmLeave, setConfirmLeave] = useState(false);
  const leave = async () => {
    if (await run(() => session.leave(id), 'Left.')) go('#/');
  };

  return (
    <section className="details" aria-label="Conversation details" id="conversation-details" data-testid="details">
      <header>
        <h3>Details</h3>
        <button type="button" onClick={onClose}>
          Close
        </button>
      </header>
      {kind !== 'direct' && owner && <RenameForm current={snapshot?.meta?.title ?? title} onRename={(t) => run(() => session.rename(id, t), `Renamed to ${t}.`)} />}
      <h4 id="members-title">Members ({members.length})</h4>
      <ul className="members" aria-labelledby="members-title">
        {members.map(([userId, member]) => (
          <li key={userId} data-testid="member">
            <Avatar name={userId} />
            <span className="member-name">{userId === me ? `${userId} (you)` : userId}</span>
            {member.role === 'owner' && <span className="role">owner</span>}
            {userId !== me && (
              <button
                type="button"
                aria-pressed={blocked.has(userId)}
                aria-label={blocked.has(userId) ? `Unblock ${userId}` : `Block ${userId}`}
                onClick={() =>
                  void (blocked.has(userId)
                    ? run(() => session.blocks.unblock(userId), `${userId} is unblocked.`)
                    : run(() => session.blocks.block(userId), `${userId} is blocked: their messages are collapsed and never notify you.`))
                }
              >
                {blocked.has(userId) ? 'Unblock' : 'Block'}
              </button>
            )}
            {owner && userId !== me && kind !== 'direct' && (
              <button type="button" onClick={() => void run(() => session.removeMember(id, userId), `${userId} was removed.`)} aria-label={`Remove ${userId}`}>
                Remove
              </button>
            )}
          </li>
        ))}
      </ul>
      {owner && kind !== 'direct' && <AddMemberForm onAdd={(userId) => run(() => session.addMember(id, userId), `${userId} was added.`)} />}
      <div className="row details-actions">
        <button type="button" aria-pressed={muted} disabled={!prefsReady} onClick={() => void session.inbox.mute(id, muted ? null : Date.now() + MUTE_FOR_MS)}>
          {muted ? 'Unmute' : 'Mute'}
        </button>
        {kind !== 'direct' && !confirmLeave && (
          <button type="button" className="danger" onClick={() => setConfirmLeave(true)}>
            Leave conversation
          </button>
        )}
      </div>
      {confirmLeave && (
        <div className="confirm" role="group" aria-label="Confirm leaving">
          <p>Leave “{title}”? You stop receiving its messages and they are removed from this device.</p>
          <button type="button" className="danger" onClick={() => void leave()}>
            Yes, leave
          </button>
          <button type="button" onClick={() => setConfirmLeave(false)}>
            Stay
          </button>
        </div>
      )}
      <p role="status" className="hint">
        {status}
      </p>
      {error && <p role="alert">{error}</p>}
    </section>
  );
}

function RenameForm({ current, onRename }: { current: string; onRename: (title: string) => Promise<boolean> }) {
  const [value, setValue] = useState(current);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (value.trim()) void onRename(value.trim());
  };
  return (
    <form className="row" onSubmit={submit}>
      <label htmlFor="rename-title" className="visually-hidden">
        Group title
      </label>
      <input id="rename-title" value={value} onChange={(e) => setValue(e.target.value)} maxLength={200} dir="auto" />
      <button type="submit">Rename</button>
    </form>
  );
}

function AddMemberForm({ onAdd }: { onAdd: (userId: string) => Promise<boolean> }) {
  const [value, setValue] = useState('');
  const [bad, setBad] = useState<string | null>(null);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const { ids, bad: wrong } = parseUserIds(value);
    if (wrong.length > 0 || ids.length === 0) return setBad(`Not a user id. ${USER_ID_HINT}`);
    setBad(null);
    for (const id of ids) if (!(await onAdd(id))) return;
    setValue('');
  };
  return (
    <form className="row" onSubmit={(e) => void submit(e)} noValidate>
      <label htmlFor="add-member" className="visually-hidden">
        Add a member
      </label>
      <input id="add-member" value={value} onChange={(e) => setValue(e.target.value)} placeholder="user id" autoCapitalize="none" />
      <button type="submit">Add member</button>
      {bad && <p role="alert">{bad}</p>}
    </form>
  );
}
