import { afterEach, describe, expect, it } from 'vitest';
import { Session } from '../sdk/Session';
import { NodeWebSocket } from '../testing/nodeClient';
import { createParleyStore } from './createParleyStore';

/** A session with no server at all: the store must work from local state alone. */
function offlineSession(): Session {
  return new Session({
    url: 'ws://127.0.0.1:9/sync',
    apiBase: 'http://127.0.0.1:9',
    identity: { userId: 'solo', name: 'Solo' },
    fetchToken: async () => ({ token: 'x', userId: 'solo', name: 'Solo', expiresAt: Date.now() + 3600_000 }),
    storagePrefix: `store-test:${Math.random()}`,
    WebSocketPolyfill: NodeWebSocket,
    tabRelay: false,
    watchNetwork: false,
  });
}

const sessions: Session[] = [];
afterEach(async () => {
  for (const session of sessions.splice(0)) {
    session.goOffline();
    await session.destroy();
  }
});

describe('createParleyStore', () => {
  it('follows the session: conversations, the open conversation and the connection', async () => {
    const session = offlineSession();
    sessions.push(session);
    session.goOffline();
    await session.start();
    const store = createParleyStore(session);
    expect(store.getState().me).toEqual({ userId: 'solo', name: 'Solo' });
    expect(store.getState().connection.state).toBe('offline');

    const chat = session.conversation('c1');
    await chat.replica.whenLoaded();
    store.getState().open('c1');
    chat.send('written offline');
    // Pending once its IndexedDB write committed.
    await session.waitFor(() => chat.snapshot().pending === 1);
    await new Promise((resolve) => setTimeout(resolve, 0));
    const state = store.getState();
    expect(state.active?.messages.map((m) => [m.text, m.status])).toEqual([['written offline', 'pending']]);
    expect(state.conversations.map((c) => c.id)).toEqual(['c1']);
    expect(state.connection).toMatchObject({ state: 'offline', pendingMessages: 1, savingMessages: 0 });
    store.dispose();
  });

  it('keeps unchanged slices identical, so selectors do not re-render', async () => {
    const session = offlineSession();
    sessions.push(session);
    session.goOffline();
    await session.start();
    const store = createParleyStore(session);
    const inbox = store.getState().inbox;
    session.conversation('c2').send('hello');
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(store.getState().inbox).toBe(inbox);
    store.dispose();
  });
});
