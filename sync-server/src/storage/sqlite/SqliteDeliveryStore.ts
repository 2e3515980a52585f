import type { Database } from 'better-sqlite3';
import { versionKey, type DeliveryKey, type DeliveryStart, type DeliveryState, type DeliveryStore } from '../Storage';
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

  async begin(keys: DeliveryKey[], attempt: number, now: number): Promise<DeliveryStart[]> {
    return this.db.transaction(() => keys.map((key) => this.beginOne(key, attempt, now)))();
  }

  private beginOne(key: DeliveryKey, attempt: number, now: number): DeliveryStart {
    const row = this.sql(`SELECT state FROM deliveries WHERE ${KEY}`).get(...keyArgs(key)) as { state: DeliveryState } | undefined;
    if (row === undefined) {
      this.sql('INSERT INTO deliveries (user_id, notification_id, version, channel, target, state, attempt, updated_at) VALUES (?, ?, ?, ?, ?, \'sending\', ?, ?)')
        .run(...keyArgs(key), attempt, now);
      return 'go';
    }
    if (row.state === 'failed') {
      this.sql(`UPDATE deliveries SET state = 'sending', attempt = ?, updated_at = ? WHERE ${KEY}`).run(attempt, now, ...keyArgs(key));
      return 'go';
    }
    if (row.state === 'sending') {
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

  async prune(before: number): Promise<number> {
    return this.sql("DELETE FROM deliveries WHERE updated_at < ? AND state <> 'sending'").run(before).changes;
  }
}
