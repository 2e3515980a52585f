import { randomUUID } from 'node:crypto';
import type { WebSocket } from 'ws';
import { AuthFailure, CloseCode, DEFAULTS, type Identity } from '@parley/schema';

/**
 * One WebSocket and what we know about it: whose it is (every document on a
 * socket must be the same user's), which documents it holds, and when its
 * token runs out.
 */
export class SocketSession {
  readonly id = randomUUID();
  identity: Identity | null = null;
  readonly documents = new Set<string>();
  private expiryTimer: NodeJS.Timeout | null = null;

  constructor(readonly ws: WebSocket) {}

  /** Returns a refusal reason, or null when the document may be attached. */
  admit(identity: Identity, documentName: string): string | null {
    if (this.identity && this.identity.userId !== identity.userId) return AuthFailure.otherUser;
    if (!this.documents.has(documentName) && this.documents.size >= DEFAULTS.documentsPerConnection) return AuthFailure.tooManyDocuments;
    return null;
  }

  attach(identity: Identity, documentName: string): void {
    this.documents.add(documentName);
    // The newest token decides when the socket expires: a refreshed token extends it.
    if (!this.identity || identity.expiresAt >= this.identity.expiresAt) {
      this.identity = identity;
      this.scheduleExpiry(identity.expiresAt);
    }
  }

  detach(documentName: string): void {
    this.documents.delete(documentName);
  }

  close(code: number, reason: string): void {
    this.clearExpiry();
    if (this.ws.readyState === this.ws.OPEN || this.ws.readyState === this.ws.CONNECTING) this.ws.close(code, reason);
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
