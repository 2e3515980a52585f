import { useParley } from '../react';
import { go } from './useHashRoute';

/** The notification bell with its live badge. */
export function Bell() {
  const unread = useParley((s) => s.inbox.unreadCount);
  return (
    <button type="button" className="bell" onClick={() => go('#/inbox')} aria-label={`Notifications, ${unread} unread`} data-testid="bell">
      <span aria-hidden="true">🔔</span>
      {unread > 0 && (
        <span className="badge" data-testid="badge" aria-hidden="true">
          {unread > 99 ? '99+' : unread}
        </span>
      )}
    </button>
  );
}
