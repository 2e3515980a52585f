import type pg from 'pg';
import { versionKey, type DeliveryKey, type DeliveryStart, type DeliveryState, type DeliveryStore, type InterruptedSend } from '../Storage';
import { changed, transaction } from './PgPool';

const KEY = 'user_id = $1 AND notification_id = $2 AND version = $3 AND channel = $4 AND target = $5';
const keyArgs = (k: DeliveryKey) => [k.userId, k.notificationId, k.version, k.channel, k.target];

/**
 * Delivery records (migration 8), as SqliteDeliveryStore keeps them. `begin`
 * locks each record (or inserts it) in one transaction, so two nodes handling
 * the same notification decide once: the second finds it `sending` or done.
 */
export class PgDeliveryStore implements DeliveryStore {
  constructor(private readonly pool: pg.Pool) {}

  async begin(keys: DeliveryKey[], attempt: number, now: number, interrupted: InterruptedSend = 'give-up'): Promise<DeliveryStart[]> {
    return transaction(this.pool, async (client) => {
      const starts: DeliveryStart[] = [];
      for (const key of keys) starts.push(await this.beginOne(client, key, attempt, now, interrupted));
      return starts;
    });
  }

  private async beginOne(client: pg.PoolClient, key: DeliveryKey, attempt: number, now: number, interrupted: InterruptedSend): Promise<DeliveryStart> {
    const inserted = await client.query(
      `INSERT INTO deliveries (user_id, notification_id, version, channel, target, state, attempt, updated_at) VALUES ($1, $2, $3, $4, $5, 'sending', $6, $7)
       ON CONFLICT DO NOTHING`,
      [...keyArgs(key), attempt, now],
    );
    if (changed(inserted) > 0) return 'go';
    const row = (await client.query<{ state: DeliveryState; attempt: number }>(`SELECT state, attempt FROM deliveries WHERE ${KEY} FOR UPDATE`, keyArgs(key))).rows[0];
    const state = row?.state;
    if (state === 'failed' || (state === 'sending' && interrupted === 'resend' && row!.attempt < attempt)) {
      await client.query(`UPDATE deliveries SET state = 'sending', attempt = $6, updated_at = $7 WHERE ${KEY}`, [...keyArgs(key), attempt, now]);
      return 'go';
    }
    if (state === 'sending' && interrupted === 'give-up') {
      await client.query(`UPDATE deliveries SET state = 'uncertain', error = 'an earlier attempt stopped during the send', updated_at = $6 WHERE ${KEY}`, [...keyArgs(key), now]);
      return 'uncertain';
    }
    return 'done';
  }

  async finish(keys: DeliveryKey[], state: Exclude<DeliveryState, 'sending'>, error: string | null, now: number): Promise<void> {
    await transaction(this.pool, async (client) => {
      for (const key of keys) await client.query(`UPDATE deliveries SET state = $6, error = $7, updated_at = $8 WHERE ${KEY}`, [...keyArgs(key), state, error, now]);
    });
  }

  async emailed(userId: string, versions: Array<{ notificationId: string; version: number }>): Promise<Set<string>> {
    if (versions.length === 0) return new Set();
    const { rows } = await this.pool.query<{ notification_id: string; version: number }>(
      `SELECT DISTINCT d.notification_id, d.version FROM deliveries d
       JOIN unnest($2::text[], $3::bigint[]) AS v (notification_id, version) ON v.notification_id = d.notification_id AND v.version = d.version
       WHERE d.user_id = $1 AND d.channel = 'email'`,
      [userId, versions.map((v) => v.notificationId), versions.map((v) => v.version)],
    );
    return new Set(rows.map((r) => versionKey(r.notification_id, r.version)));
  }

  async lastDigestAt(userId: string): Promise<number | null> {
    return (await this.pool.query<{ last_sent_at: number }>('SELECT last_sent_at FROM email_digests WHERE user_id = $1', [userId])).rows[0]?.last_sent_at ?? null;
  }

  async recordDigest(userId: string, at: number): Promise<void> {
    await this.pool.query('INSERT INTO email_digests (user_id, last_sent_at) VALUES ($1, $2) ON CONFLICT (user_id) DO UPDATE SET last_sent_at = excluded.last_sent_at', [userId, at]);
  }

  async markDigestDue(userId: string, dueAt: number, now: number): Promise<void> {
    await this.pool.query(
      'INSERT INTO email_digest_due (user_id, due_at, touched_at) VALUES ($1, $2, $3) ON CONFLICT (user_id) DO UPDATE SET due_at = least(email_digest_due.due_at, excluded.due_at), touched_at = excluded.touched_at',
      [userId, dueAt, now],
    );
  }

  async deferDigest(userId: string, dueAt: number): Promise<void> {
    await this.pool.query('INSERT INTO email_digest_due (user_id, due_at, touched_at) VALUES ($1, $2, 0) ON CONFLICT (user_id) DO UPDATE SET due_at = excluded.due_at', [userId, dueAt]);
  }

  async clearDigest(userId: string, startedAt: number): Promise<void> {
    await this.pool.query('DELETE FROM email_digest_due WHERE user_id = $1 AND touched_at < $2', [userId, startedAt]);
  }

  async takeDueDigests(now: number, holdUntil: number, limit: number): Promise<string[]> {
    // SKIP LOCKED: two nodes sweeping at once take different users, neither waits.
    const { rows } = await this.pool.query<{ user_id: string }>(
      `UPDATE email_digest_due SET due_at = $1
       WHERE user_id IN (SELECT user_id FROM email_digest_due WHERE due_at <= $2 ORDER BY due_at LIMIT $3 FOR UPDATE SKIP LOCKED)
       RETURNING user_id`,
      [holdUntil, now, limit],
    );
    return rows.map((r) => r.user_id);
  }

  async prune(before: number): Promise<number> {
    return changed(await this.pool.query("DELETE FROM deliveries WHERE updated_at < $1 AND state <> 'sending'", [before]));
  }
}
