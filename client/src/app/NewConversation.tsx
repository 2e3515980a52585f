import { useState, type FormEvent } from 'react';
import { useSession } from '../react';
import { go } from './useHashRoute';
import { parseUserIds, USER_ID_HINT } from './userIds';
import { friendlyError } from './friendlyError';

/** Starts a direct conversation (one id) or a group (several ids, with an optional title). */
export function NewConversation() {
  const session = useSession();
  const me = session.identity.userId;
  const [typed, setTyped] = useState('');
  const [title, setTitle] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const { ids, bad } = parseUserIds(typed);
  const others = ids.filter((id) => id !== me);
  const group = others.length > 1;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (bad.length > 0) return setError(`Not a user id: ${bad.join(', ')}. ${USER_ID_HINT}`);
    if (others.length === 0) return setError(ids.length > 0 ? 'That is you. Type the id of someone else.' : 'Type a user id.');
    setError(null);
    setBusy(true);
    try {
      const id = group ? await session.createGroup(others, title.trim() || defaultTitle(me, others)) : await session.startDirect(others[0]!);
      setTyped('');
      setTitle('');
      go(`#/c/${id}`);
    } catch (e) {
      setError(friendlyError(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="new-direct" onSubmit={(e) => void submit(e)} noValidate>
      <label htmlFor="new-direct-user">Message a user or a group</label>
      <div className="row">
        <input
          id="new-direct-user"
          value={typed}
          onChange={(e) => setTyped(e.target.value)}
          placeholder="bob, or bob, carol"
          aria-describedby="new-direct-hint"
          autoCapitalize="none"
          dir="auto"
        />
        <button type="submit" disabled={busy}>
          Start
        </button>
      </div>
      <p id="new-direct-hint" className="hint">
        Several ids, separated by commas, start a group.
      </p>
      {group && (
        <>
          <label htmlFor="new-group-title">Group title</label>
          <input id="new-group-title" value={title} onChange={(e) => setTitle(e.target.value)} placeholder={defaultTitle(me, others)} dir="auto" maxLength={200} />
        </>
      )}
      {error && <p role="alert">{error}</p>}
    </form>
  );
}

const defaultTitle = (me: string, others: string[]): string => [me, ...others].join(', ').slice(0, 200);
