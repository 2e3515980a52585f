import { randomUUID } from 'node:crypto';
import type { WebSocket } from 'ws';
import { AuthFailure, CloseCode, DEFAULTS, type Identity } from '@parley/schema';

/**
 * One WebSocket and what we know about it: whose it is (every document on a
 * socket must be the same user's), which documents it holds, and when its
 * token runs out.
 *
 * Documents are counted per open connection, not per name: Hocuspocus keys
 * connections by `documentName\0sessionId`, so one socket can open the same
 * document under any number of session addresses, and each is a connection.
 */
export class SocketSession {
  readonly id = randomUUID();
  identity: Identity | null = null;
  /** Open connections per document name. */
  private readonly documents = new Map<string, number>();
  private connections = 0;
  private expiryTimer: NodeJS.Timeout | null = null;
  /** Called once, when the first document of the socket is authenticated. */
  onAuthenticated: () => void = () => {};

  constructor(readonly ws: WebSocket) {}

  /** Returns a refusal reason, or null when the document may be attached. */
  admit(identity: Identity, documentName: string): string | null {
    if (this.identity && this.identity.userId !== identity.userId) return AuthFailure.otherUser;
    if (this.connections >= DEFAULTS.documentsPerConnection) return AuthFailure.tooManyDocuments;
    return null;
  }

  /** Names of the documents open on this socket. */
  documentNames(): string[] {
    return [...this.documents.keys()];
  }

  attach(identity: Identity, documentName: string): void {
    this.documents.set(documentName, (this.documents.get(documentName) ?? 0) + 1);
    this.connections++;
    // The newest token decides when the socket expires: a refreshed token extends it.
    const first = !this.identity;
    if (!this.identity || identity.expiresAt >= this.identity.expiresAt) {
      this.identity = identity;
      this.scheduleExpiry(identity.expiresAt);
    }
    if (first) this.onAuthenticated();
  }

  /** One connection of the document closed. */
  detach(documentName: string): void {
    const open = this.documents.get(documentName);
    if (open === undefined) return;
    this.connections--;
    if (open > 1) this.documents.set(documentName, open - 1);
    else this.documents.delete(documentName);
  }

  close(code: number, reason: string): void {
    this.clearExpiry();
    if (this.ws.readyState !== this.ws.OPEN && this.ws.readyState !== this.ws.CONNECTING) return;
    this.ws.close(code, reason);
    // A socket paused for its rate or its unread answers must still read the peer's close frame,
    // or the close handshake waits out the library's 30 s timeout. What else it reads is ignored.
    this.ws.resume();
  }

  /**
   * Closes with a code, and terminates the socket if it has not closed within
   * `graceMs`: a peer that does not read never gets the close frame (it waits
   * behind the unread bytes), and would hold the socket and its buffers for
   * the library's 30 s closing timeout.
   */
  closeOrTerminate(code: number, reason: string, graceMs: number): void {
    this.close(code, reason);
    if (this.ws.readyState === this.ws.CLOSED) return;
    setTimeout(() => {
      if (this.ws.readyState !== this.ws.CLOSED) this.ws.terminate();
    }, graceMs).unref();
  }

  clearExpiry(): void {
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.expiryTimer = null;
  }

  private scheduleExpiry(expiresAt: number): void {
    this.clearExpiry();
    // setTimeout overflows past ~24.8 days; such tokens are re-checked when the timer fires.
    const delay = Math.min(Math.max(0, expiresAt - Date.now() + DEFAULTS.tokenExpiryGraceMs), 2 ** 31 - 1);
    this.expiryTimer = setTimeout(() => {
      if (this.identity && this.identity.expiresAt > Date.now()) return this.scheduleExpiry(this.identity.expiresAt);
      this.close(CloseCode.tokenExpired, AuthFailure.expiredToken);
    }, delay);
    this.expiryTimer.unref();
  }
}
