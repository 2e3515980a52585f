/**
 * Builds SDK sessions in Node against a real test server: real WebSockets
 * (the `ws` package), IndexedDB from fake-indexeddb. For tests and bots.
 */
import 'fake-indexeddb/auto';
import WebSocket from 'ws';
import { Session, type SessionOptions } from '../sdk/Session';

/**
 * `ws` throws from `close()` on a socket still connecting when nobody listens
 * for 'error', and the provider drops its listeners before closing such a
 * socket on a quick reconnect. Browsers only fire an event; so do we.
 */
export class NodeWebSocket extends WebSocket {
  constructor(...args: ConstructorParameters<typeof WebSocket>) {
    super(...args);
    this.on('error', () => {});
  }
}

export interface NodeClientServer {
  httpUrl: string;
  wsUrl: string;
  token(userId: string, options?: { name?: string; expiresIn?: number }): Promise<string>;
}

export function nodeSession(server: NodeClientServer, userId: string, options: Partial<SessionOptions> = {}): Session {
  return new Session({
    url: server.wsUrl,
    apiBase: server.httpUrl,
    identity: { userId, name: userId },
    fetchToken: async () => ({ token: await server.token(userId, { name: userId }), userId, name: userId, expiresAt: Date.now() + 3600_000 }),
    WebSocketPolyfill: NodeWebSocket,
    tabRelay: false,
    watchNetwork: false,
    pollMs: 500,
    // A fresh database namespace per session unless a test reopens one on purpose.
    storagePrefix: `parley:${userId}:${Math.random().toString(36).slice(2)}`,
    ...options,
  });
}

export async function eventually(test: () => boolean | Promise<boolean>, ms = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!(await test())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
