import type { Database } from 'better-sqlite3';
import { versionKey, type DeliveryKey, type DeliveryStart, type DeliveryState, type DeliveryStore, type InterruptedSend } from '../Storage';
import { statementCache } from './statementCache';

const KEY = 'user_id = ? AND notification_id = ? AND version = ? AND channel = ? AND target = ?';
const keyArgs = (k: DeliveryKey) => [k.userId, k.notificationId, k.version, k.channel, k.target] as const;

/**
 * Delivery records. Each statement commits on its own (outside the group
 * commit, which only ever holds a transaction within one synchronous call),
 * so `begin` is on disk before the caller starts the send.
 */
export class SqliteDeliveryStore implements DeliveryStore {
  private readonly sql: ReturnType<typeof statementCache>;

  constructor(private readonly db: Database) {
    this.sql = statementCache(db);
  }

  async begin(keys: DeliveryKey[], attempt: number, now: number, interrupted: InterruptedSend = 'give-up'): Promise<DeliveryStart[]> {
    return this.db.transaction(() => keys.map((key) => this.beginOne(key, attempt, now, interrupted)))();
  }

  private beginOne(key: DeliveryKey, attempt: number, now: number, interrupted: InterruptedSend): DeliveryStart {
    const row = this.sql(`SELECT state, attempt FROM deliveries WHERE ${KEY}`).get(...keyArgs(key)) as { state: DeliveryState; attempt: number } | undefined;
    if (row === undefined) {
      this.sql('INSERT INTO deliveries (user_id, notification_id, version, channel, target, state, attempt, updated_at) VALUES (?, ?, ?, ?, ?, \'sending\', ?, ?)')
        .run(...keyArgs(key), attempt, now);
      return 'go';
    }
    if (row.state === 'failed' || (row.state === 'sending' && interrupted === 'resend' && row.attempt < attempt)) {
      this.sql(`UPDATE deliveries SET state = 'sending', attempt = ?, updated_at = ? WHERE ${KEY}`).run(attempt, now, ...keyArgs(key));
      return 'go';
    }
    if (row.state === 'sending' && interrupted === 'give-up') {
      this.sql(`UPDATE deliveries SET state = 'uncertain', error = 'an earlier attempt stopped during the send', updated_at = ? WHERE ${KEY}`).run(now, ...keyArgs(key));
      return 'uncertain';
    }
    return 'done';
  }

  async finish(keys: DeliveryKey[], state: Exclude<DeliveryState, 'sending'>, error: string | null, now: number): Promise<void> {
    const update = this.sql(`UPDATE deliveries SET state = ?, error = ?, updated_at = ? WHERE ${KEY}`);
    this.db.transaction(() => {
      for (const key of keys) update.run(state, error, now, ...keyArgs(key));
    })();
  }

  async emailed(userId: string, versions: Array<{ notificationId: string; version: number }>): Promise<Set<string>> {
    const found = new Set<string>();
    const one = this.sql("SELECT 1 FROM deliveries WHERE user_id = ? AND notification_id = ? AND version = ? AND channel = 'email'");
    for (const v of versions) if (one.get(userId, v.notificationId, v.version)) found.add(versionKey(v.notificationId, v.version));
    return found;
  }

  async lastDigestAt(userId: string): Promise<number | null> {
    const row = this.sql('SELECT last_sent_at FROM email_digests WHERE user_id = ?').get(userId) as { last_sent_at: number } | undefined;
    return row?.last_sent_at ?? null;
  }

  async recordDigest(userId: string, at: number): Promise<void> {
    this.sql('INSERT INTO email_digests (user_id, last_sent_at) VALUES (?, ?) ON CONFLICT (user_id) DO UPDATE SET last_sent_at = excluded.last_sent_at').run(userId, at);
  }

  async markDigestDue(userId: string, dueAt: number, now: number): Promise<void> {
    this.sql('INSERT INTO email_digest_due (user_id, due_at, touched_at) VALUES (?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET due_at = min(due_at, excluded.due_at), touched_at = excluded.touched_at')
      .run(userId, dueAt, now);
  }

  async deferDigest(userId: string, dueAt: number): Promise<void> {
    this.sql('INSERT INTO email_digest_due (user_id, due_at, touched_at) VALUES (?, ?, 0) ON CONFLICT (user_id) DO UPDATE SET due_at = excluded.due_at').run(userId, dueAt);
  }

  async clearDigest(userId: string, startedAt: number): Promise<void> {
    this.sql('DELETE FROM email_digest_due WHERE user_id = ? AND touched_at < ?').run(userId, startedAt);
  }

  async takeDueDigests(now: number, holdUntil: number, limit: number): Promise<string[]> {
    const rows = this.sql(
      'UPDATE email_digest_due SET due_at = ? WHERE user_id IN (SELECT user_id FROM email_digest_due WHERE due_at <= ? ORDER BY due_at LIMIT ?) RETURNING user_id',
    ).all(holdUntil, now, limit) as Array<{ user_id: string }>;
    return rows.map((r) => r.user_id);
  }

  async prune(before: number): Promise<number> {
    return this.sql("DELETE FROM deliveries WHERE updated_at < ? AND state <> 'sending'").run(before).changes;
  }
}
