import { useEffect, useState } from 'react';
import { useParley, useSession } from '../react';
import { go } from './useHashRoute';
import type { Notification } from '@parley/schema';
import { formatTime } from './formatTime';

/** Notifications: read/unread, read all, archive, and click through to what they are about. */
export function InboxPanel() {
  const session = useSession();
  const notifications = useParley((s) => s.inbox.notifications);
  const unread = useParley((s) => s.inbox.unreadCount);
  const [showArchived, setShowArchived] = useState(false);
  const list = notifications.filter((n) => (n.archivedAt !== null) === showArchived);
  const inbox = session.inbox;

  // Opening the panel is seeing what is in it (seenAt), which is not reading it (readAt).
  useEffect(() => {
    for (const n of notifications) if (n.seenAt === null && n.archivedAt === null) inbox.markSeen(n.id);
  }, [notifications, inbox]);

  const openTarget = (n: Notification) => {
    inbox.markRead(n.id);
    if (n.data.conversationId) go(`#/c/${n.data.conversationId}`);
    else if (n.data.url?.startsWith('#')) go(n.data.url);
  };

  return (
    <section className="inbox" aria-labelledby="inbox-title">
      <header>
        <h2 id="inbox-title">Notifications</h2>
        <span data-testid="inbox-unread">{unread} unread</span>
        <button type="button" onClick={() => inbox.markAllRead()} disabled={unread === 0}>
          Read all
        </button>
        <button type="button" aria-pressed={showArchived} onClick={() => setShowArchived((v) => !v)}>
          {showArchived ? 'Show inbox' : 'Show archived'}
        </button>
      </header>
      {list.length === 0 && <p className="empty">{showArchived ? 'Nothing archived.' : 'You are all caught up.'}</p>}
      <ul>
        {list.map((n) => {
          const isUnread = n.readAt === null;
          return (
            <li key={n.id} className={isUnread ? 'notification unread' : 'notification'} data-testid="notification" data-id={n.id} data-unread={isUnread}>
              <button type="button" className="notification-open" onClick={() => openTarget(n)}>
                <strong>{n.title}</strong>
                {n.count > 1 && <span className="count"> ({n.count})</span>}
                <span className="body">{n.body}</span>
                <NotificationTime at={n.updatedAt} />
              </button>
              <div className="row" role="group" aria-label="Notification actions">
                <button type="button" onClick={() => (isUnread ? inbox.markRead(n.id) : inbox.markUnread(n.id))}>
                  {isUnread ? 'Mark read' : 'Mark unread'}
                </button>
                <button type="button" onClick={() => (n.archivedAt === null ? inbox.archive(n.id) : inbox.unarchive(n.id))}>
                  {n.archivedAt === null ? 'Archive' : 'Unarchive'}
                </button>
              </div>
            </li>
          );
        })}
      </ul>
    </section>
  );
}

function NotificationTime({ at }: { at: number }) {
  const time = formatTime(at, 'dateTime');
  return time && <time dateTime={time.iso}>{time.label}</time>;
}
