import { createPublicKey, type KeyObject } from 'node:crypto';
import { errors, jwtVerify, type JWTHeaderParameters } from 'jose';
import { Claims, type Identity } from '@parley/schema';

export class TokenError extends Error {
  constructor(
    readonly reason: 'invalid-token' | 'token-expired',
    message: string,
  ) {
    super(message);
  }
}

/** Which algorithm a PEM public key signs with; RS256, ES256 (P-256) and EdDSA (Ed25519) are accepted. */
function algorithmOf(key: KeyObject): string {
  const type = key.asymmetricKeyType;
  if (type === 'rsa') return 'RS256';
  if (type === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256';
  if (type === 'ed25519') return 'EdDSA';
  throw new Error(`JWT_PUBLIC_KEY: unsupported key type ${type}${type === 'ec' ? ` (${key.asymmetricKeyDetails?.namedCurve})` : ''}`);
}

/**
 * Verifies user and service JWTs. Algorithms are pinned to exactly the keys
 * configured: HS256 for the secret, and the public key's own algorithm.
 */
export class TokenVerifier {
  private readonly keys = new Map<string, Uint8Array | KeyObject>();

  /** Told of every identity verified (the contact claims are kept from there). */
  onVerified: ((identity: Identity) => void) | null = null;

  constructor(options: { secret: string | null; publicKeyPem: string | null }) {
    if (options.secret) this.keys.set('HS256', new TextEncoder().encode(options.secret));
    if (options.publicKeyPem) {
      const key = createPublicKey(options.publicKeyPem);
      this.keys.set(algorithmOf(key), key);
    }
    if (this.keys.size === 0) throw new Error('TokenVerifier needs a secret or a public key');
  }

  get algorithms(): string[] {
    return [...this.keys.keys()];
  }

  async verify(token: string): Promise<Identity> {
    if (typeof token !== 'string' || token.length === 0 || token.length > 8192) {
      throw new TokenError('invalid-token', 'missing or oversized token');
    }
    try {
      const { payload } = await jwtVerify(token, (header: JWTHeaderParameters) => this.keyFor(header), {
        algorithms: this.algorithms,
        requiredClaims: ['exp', 'sub'],
      });
      const claims = Claims.safeParse(payload);
      if (!claims.success) throw new TokenError('invalid-token', `bad claims: ${claims.error.issues[0]?.message}`);
      const { sub, name, roles, exp, email, phone_number } = claims.data;
      const identity: Identity = { userId: sub, name: name ?? sub, roles, expiresAt: exp * 1000 };
      if (email !== undefined || phone_number !== undefined) identity.contact = { email: email ?? null, phone: phone_number ?? null };
      this.onVerified?.(identity);
      return identity;
    } catch (error) {
      if (error instanceof TokenError) throw error;
      if (error instanceof errors.JWTExpired) throw new TokenError('token-expired', 'token expired');
      throw new TokenError('invalid-token', error instanceof Error ? error.message : 'invalid token');
    }
  }

  private keyFor(header: JWTHeaderParameters): Uint8Array | KeyObject {
    const key = this.keys.get(header.alg);
    if (!key) throw new TokenError('invalid-token', `algorithm ${header.alg} is not accepted`);
    return key;
  }
}
