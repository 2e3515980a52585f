import { useEffect, useState } from 'react';

/** `#/c/<id>`, `#/inbox`, `#/prefs`, `#/admin/reports` (moderators) or home: routes that work offline and survive a reload. */
/** `at`: a message to open the conversation at (a search result), `#/c/<id>/m/<messageId>`. */
export type Route = { page: 'home' } | { page: 'conversation'; id: string; at?: string } | { page: 'inbox' } | { page: 'prefs' } | { page: 'reports' };

export function parseRoute(hash: string): Route {
  const conversation = /^#\/c\/([A-Za-z0-9_.-]{1,64})(?:\/m\/([A-Za-z0-9_.-]{1,64}))?$/.exec(hash);
  if (conversation) return conversation[2] ? { page: 'conversation', id: conversation[1]!, at: conversation[2] } : { page: 'conversation', id: conversation[1]! };
  if (hash === '#/inbox') return { page: 'inbox' };
  if (hash === '#/prefs') return { page: 'prefs' };
  if (hash === '#/admin/reports') return { page: 'reports' };
  return { page: 'home' };
}

export const go = (hash: string): void => {
  location.hash = hash;
};

export function useHashRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const update = () => setRoute(parseRoute(location.hash));
    window.addEventListener('hashchange', update);
    return () => window.removeEventListener('hashchange', update);
  }, []);
  return route;
}
