import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Short-lived links to an attachment, for places that cannot send a bearer
 * token (an `<img src>`, a download link): `?u=<user>&exp=<ms epoch>&sig=<HMAC>`
 * over the path, the user and the expiry. Served only before `exp` and only
 * while that user is still a member of the conversation.
 */
export class SignedLinks {
  constructor(private readonly key: Buffer) {}

  sign(path: string, userId: string, expiresAt: number): string {
    const query = new URLSearchParams({ u: userId, exp: String(expiresAt), sig: this.mac(path, userId, expiresAt) });
    return `${path}?${query.toString()}`;
  }

  /** The user the link was made for, or null when it is forged, altered or expired. */
  verify(path: string, query: { u?: string; exp?: string; sig?: string }, now: number = Date.now()): string | null {
    const expiresAt = Number(query.exp);
    if (!query.u || !query.sig || !Number.isSafeInteger(expiresAt) || expiresAt < now) return null;
    const expected = Buffer.from(this.mac(path, query.u, expiresAt));
    const given = Buffer.from(query.sig);
    return given.length === expected.length && timingSafeEqual(given, expected) ? query.u : null;
  }

  private mac(path: string, userId: string, expiresAt: number): string {
    return createHmac('sha256', this.key).update(`${path}\n${userId}\n${expiresAt}`).digest('base64url');
  }
}
