import type { Identity } from '@parley/schema';
import type { SocketSession } from './SocketSession';

/** The Hocuspocus context of a client connection. */
export interface ConnectionContext {
  session: SocketSession;
  /** Set by the auth extension once the document's token is verified. */
  identity?: Identity;
}

/** The Hocuspocus context of the server's own direct connections. */
export interface ServerContext {
  server: true;
}

export function isConnectionOrigin(origin: unknown): boolean {
  return typeof origin === 'object' && origin !== null && (origin as { source?: unknown }).source === 'connection';
}
