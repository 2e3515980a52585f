import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Signs the links in emails (the one-click unsubscribe, RFC 8058) so only
 * the user a link was mailed to can use it, without a login. The key is
 * generated once and kept in DATA_DIR, so links stay valid across restarts.
 */
export class LinkSigner {
  private constructor(private readonly key: Buffer) {}

  static inDataDir(dataDir: string): LinkSigner {
    mkdirSync(dataDir, { recursive: true });
    const file = join(dataDir, 'email-link-key');
    if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString('base64url'), { mode: 0o600 });
    return new LinkSigner(Buffer.from(readFileSync(file, 'utf8').trim(), 'base64url'));
  }

  /** `<userId as base64url>.<HMAC>`: safe in a URL path. */
  sign(purpose: string, userId: string): string {
    return `${Buffer.from(userId).toString('base64url')}.${this.mac(purpose, userId)}`;
  }

  /** The user a token was signed for, or null when it was not signed here for this purpose. */
  verify(purpose: string, token: string): string | null {
    const [encoded, mac, ...rest] = token.split('.');
    if (!encoded || !mac || rest.length > 0) return null;
    const userId = Buffer.from(encoded, 'base64url').toString('utf8');
    const expected = Buffer.from(this.mac(purpose, userId));
    const given = Buffer.from(mac);
    return given.length === expected.length && timingSafeEqual(given, expected) ? userId : null;
  }

  private mac(purpose: string, userId: string): string {
    return createHmac('sha256', this.key).update(`${purpose}\n${userId}`).digest('base64url');
  }
}
