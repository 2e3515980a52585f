import type { Awareness } from 'y-protocols/awareness';

/** Other users present on a document, from its awareness states `{user: {id, name}, typing}`. */
export function awarenessUsers(awareness: Awareness | null, me: string): { here: string[]; typing: string[] } {
  const here = new Set<string>();
  const typing = new Set<string>();
  if (!awareness) return { here: [], typing: [] };
  for (const [clientId, state] of awareness.getStates()) {
    if (clientId === awareness.clientID) continue;
    const user = (state as { user?: { id?: unknown } }).user;
    if (typeof user?.id !== 'string' || user.id === me) continue;
    here.add(user.id);
    if ((state as { typing?: unknown }).typing === true) typing.add(user.id);
  }
  return { here: [...here].sort(), typing: [...typing].sort() };
}
