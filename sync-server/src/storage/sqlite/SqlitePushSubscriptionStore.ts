import type { Database } from 'better-sqlite3';
import type { PushSubscription, PushSubscriptionStore } from '../Storage';
import { statementCache } from './statementCache';

export class SqlitePushSubscriptionStore implements PushSubscriptionStore {
  private readonly sql: ReturnType<typeof statementCache>;

  constructor(private readonly db: Database) {
    this.sql = statementCache(db);
  }

  async add(userId: string, s: PushSubscription): Promise<void> {
    this.sql('INSERT INTO push_subscriptions (user_id, endpoint, keys, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (user_id, endpoint) DO UPDATE SET keys = excluded.keys')
      .run(userId, s.endpoint, JSON.stringify(s.keys), Date.now());
  }

  async remove(userId: string, endpoint: string): Promise<boolean> {
    return this.sql('DELETE FROM push_subscriptions WHERE user_id = ? AND endpoint = ?').run(userId, endpoint).changes > 0;
  }

  async list(userId: string): Promise<PushSubscription[]> {
    const rows = this.sql('SELECT endpoint, keys FROM push_subscriptions WHERE user_id = ? ORDER BY created_at').all(userId) as { endpoint: string; keys: string }[];
    return rows.map((r) => ({ endpoint: r.endpoint, keys: JSON.parse(r.keys) as PushSubscription['keys'] }));
  }
}
