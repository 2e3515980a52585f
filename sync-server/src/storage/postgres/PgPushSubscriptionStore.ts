import type pg from 'pg';
import type { PushSubscription, PushSubscriptionStore } from '../Storage';
import { changed } from './PgPool';

export class PgPushSubscriptionStore implements PushSubscriptionStore {
  constructor(private readonly pool: pg.Pool) {}

  async add(userId: string, s: PushSubscription): Promise<void> {
    await this.pool.query(
      'INSERT INTO push_subscriptions (user_id, endpoint, keys, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (user_id, endpoint) DO UPDATE SET keys = excluded.keys',
      [userId, s.endpoint, JSON.stringify(s.keys), Date.now()],
    );
  }

  async remove(userId: string, endpoint: string): Promise<boolean> {
    return changed(await this.pool.query('DELETE FROM push_subscriptions WHERE user_id = $1 AND endpoint = $2', [userId, endpoint])) > 0;
  }

  async list(userId: string): Promise<PushSubscription[]> {
    const rows = (await this.pool.query<{ endpoint: string; keys: string }>('SELECT endpoint, keys FROM push_subscriptions WHERE user_id = $1 ORDER BY created_at, endpoint', [userId])).rows;
    return rows.map((r) => ({ endpoint: r.endpoint, keys: JSON.parse(r.keys) as PushSubscription['keys'] }));
  }
}
