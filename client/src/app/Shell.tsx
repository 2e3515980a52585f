import { useEffect, useState } from 'react';
import { useParley } from '../react';
import { Bell } from './Bell';
import { ConnectionBanner } from './ConnectionBanner';
import { ConversationList } from './ConversationList';
import { ConversationView } from './ConversationView';
import { ErrorBoundary } from './ErrorBoundary';
import { InboxPanel } from './InboxPanel';
import { Preferences } from './Preferences';
import { AdminReports } from './AdminReports';
import { SearchBox } from './SearchBox';
import { useHashRoute } from './useHashRoute';

/** The signed-in app: header, conversation list, and the page the route names. */
export function Shell({ onSignOut }: { onSignOut: () => void }) {
  const route = useHashRoute();
  const me = useParley((s) => s.me);
  const open = useParley((s) => s.open);
  const lastError = useParley((s) => s.errors.at(-1));
  const [dismissedAt, setDismissedAt] = useState(0);
  const activeId = route.page === 'conversation' ? route.id : null;

  useEffect(() => open(activeId), [activeId, open]);

  return (
    <div className={`shell page-${route.page}`}>
      <header className="topbar">
        <a href="#/" className="brand">
          Parley
        </a>
        <SearchBox />
        <ConnectionBanner />
        <span className="me" data-testid="me">
          {me.name}
        </span>
        <a href="#/prefs" aria-label="Preferences">
          ⚙
        </a>
        <Bell />
        <button type="button" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      {lastError && lastError.at > dismissedAt && (
        <p className="error" role="alert">
          {lastError.recovery === 'replica-reset'
            ? `A change was refused by the server (${lastError.reason}); ${lastError.docName} was reloaded from the server.`
            : lastError.recovery === 'forgotten'
              ? `You no longer have access to ${lastError.docName}; it was removed from this device.`
              : `Could not open ${lastError.docName} (${lastError.reason}).`}{' '}
          <button type="button" onClick={() => setDismissedAt(Date.now())}>
            Dismiss
          </button>
        </p>
      )}
      <div className="columns">
        <ConversationList activeId={activeId} />
        <main className="main">
          {/* What fails to render stays in this pane: the list, the banner and the other pages keep working. */}
          <ErrorBoundary resetKey={activeId ?? route.page} fallback={<p className="empty" role="alert">This page cannot be shown. Pick another conversation or page.</p>}>
            {route.page === 'conversation' && <ConversationView id={route.id} at={route.at} />}
            {route.page === 'inbox' && <InboxPanel />}
            {route.page === 'prefs' && <Preferences />}
            {route.page === 'reports' && <AdminReports />}
            {route.page === 'home' && <p className="empty">Pick a conversation, or message a user.</p>}
          </ErrorBoundary>
        </main>
      </div>
    </div>
  );
}
