import { useParley } from '../react';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * Says what the link to the server is doing and how much is waiting to go.
 * "Waiting" counts only messages already safe in IndexedDB (`pending`), so the
 * number never promises more than a reload keeps; a `saving` message shows
 * its own marker and joins the count once its write commits.
 */
export function ConnectionBanner() {
  const { state, pendingMessages } = useParley((s) => s.connection);
  const waiting = pendingMessages > 0 ? ` - ${plural(pendingMessages, 'message')} waiting` : '';
  const text = state === 'offline' ? `offline${waiting}` : state === 'connecting' ? `connecting${waiting}` : state === 'syncing' ? `syncing${waiting}` : 'online';
  return (
    <div className={`banner banner-${state}`} role="status" aria-live="polite" data-testid="connection" data-state={state}>
      {text}
    </div>
  );
}
