import { useParley, useSession } from '../react';
import { NewConversation } from './NewConversation';
import { go } from './useHashRoute';
import { PresenceDot } from './Presence';

/** Conversations with last message, unread count and a presence dot; starts direct conversations and groups. */
export function ConversationList({ activeId }: { activeId: string | null }) {
  const conversations = useParley((s) => s.conversations);
  return (
    <nav className="conversations" aria-label="Conversations">
      <NewConversation />
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
              <span className="last" dir="auto">{c.lastMessage ? `${c.lastMessage.author}: ${c.lastMessage.text}` : 'No messages yet'}</span>
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}
