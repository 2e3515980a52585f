import { useState, type FormEvent } from 'react';
import { useParley, useSession } from '../react';
import { go } from './useHashRoute';
import { PresenceDot } from './Presence';

/** Conversations with last message, unread count and a presence dot; starts direct conversations. */
export function ConversationList({ activeId }: { activeId: string | null }) {
  const conversations = useParley((s) => s.conversations);
  return (
    <nav className="conversations" aria-label="Conversations">
      <NewDirect />
      {conversations.length === 0 && <p className="empty">No conversations yet.</p>}
      <ul>
        {conversations.map((c) => (
          <li key={c.id}>
            <a
              href={`#/c/${c.id}`}
              className={c.id === activeId ? 'conversation active' : 'conversation'}
              aria-current={c.id === activeId ? 'page' : undefined}
              data-testid={`conversation-${c.id}`}
            >
              <PresenceDot presence={c.presence} lastSeenAt={c.lastSeenAt} />
              <span className="conversation-title">{c.title}</span>
              {c.unread > 0 && (
                <span className="unread" data-testid="unread" aria-label={`${c.unread} unread`}>
                  {c.unread}
                </span>
              )}
              <span className="last">{c.lastMessage ? `${c.lastMessage.author}: ${c.lastMessage.text}` : 'No messages yet'}</span>
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}

function NewDirect() {
  const session = useSession();
  const [other, setOther] = useState('');
  const [error, setError] = useState<string | null>(null);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const userId = other.trim();
    if (!userId) return;
    setError(null);
    try {
      const id = await session.startDirect(userId);
      setOther('');
      go(`#/c/${id}`);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  return (
    <form className="new-direct" onSubmit={(e) => void submit(e)}>
      <label htmlFor="new-direct-user">Message a user</label>
      <div className="row">
        <input id="new-direct-user" value={other} onChange={(e) => setOther(e.target.value)} placeholder="user id" pattern="[A-Za-z0-9_.\-]{1,64}" />
        <button type="submit">Start</button>
      </div>
      {error && <p role="alert">{error}</p>}
    </form>
  );
}
