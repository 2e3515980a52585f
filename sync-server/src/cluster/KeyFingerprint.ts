import { createHmac } from 'node:crypto';
import type pg from 'pg';
import { transaction } from '../storage/postgres/PgPool';

const TABLE = 'cluster_key_fingerprint';

/** What a node checks tokens with, fingerprinted: an HMAC keyed by the secret (it reveals nothing of it), or a hash of the public key. */
export function keyFingerprint(key: { secret: string | null; publicKeyPem: string | null }): string {
  const material = key.secret ?? key.publicKeyPem ?? '';
  return createHmac('sha256', material).update(`parley token key fingerprint v1\n${key.secret ? 'hmac' : 'public-key'}`).digest('base64url');
}

export class KeyMismatchError extends Error {}

/**
 * Every node of a cluster must verify tokens with the same key, or a user's
 * token works on one node and not the next. The first node stores the key's
 * fingerprint; a node whose fingerprint differs refuses to start. (Its own
 * table, created if missing, so it needs no schema version of its own.)
 * Rotating the key: stop every node, `DELETE FROM cluster_key_fingerprint`,
 * start them with the new key.
 */
export async function checkKeyFingerprint(pool: pg.Pool, fingerprint: string): Promise<void> {
  const stored = await transaction(pool, async (client) => {
    // Nodes starting at once: CREATE TABLE IF NOT EXISTS alone can collide on the catalog.
    await client.query("SELECT pg_advisory_xact_lock(hashtext('parley cluster key fingerprint'))");
    await client.query(`CREATE TABLE IF NOT EXISTS ${TABLE} (id smallint PRIMARY KEY CHECK (id = 1), fingerprint text NOT NULL, created_at bigint NOT NULL)`);
    await client.query(`INSERT INTO ${TABLE} (id, fingerprint, created_at) VALUES (1, $1, $2) ON CONFLICT (id) DO NOTHING`, [fingerprint, Date.now()]);
    return (await client.query<{ fingerprint: string }>(`SELECT fingerprint FROM ${TABLE} WHERE id = 1`)).rows[0]?.fingerprint;
  });
  if (stored !== fingerprint) {
    throw new KeyMismatchError(
      'JWT_SECRET (or JWT_PUBLIC_KEY) differs from the key the other nodes of this cluster use (its fingerprint in PostgreSQL); every node needs the same key',
    );
  }
}
