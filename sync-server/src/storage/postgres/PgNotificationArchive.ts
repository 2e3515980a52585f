import type pg from 'pg';
import { notificationLastChange, type Notification } from '@parley/schema';
import type { NotificationArchive } from '../Storage';
import { changed } from './PgPool';
import { prefixEnd } from '../prefixEnd';

/**
 * Settled notifications out of their inbox document (migration 7), as
 * SqliteNotificationArchive keeps them: the whole notification as JSON
 * (`body`), beside the columns pages and retention select on.
 */
export class PgNotificationArchive implements NotificationArchive {
  constructor(private readonly pool: pg.Pool) {}

  async put(userId: string, notifications: readonly Notification[]): Promise<void> {
    if (notifications.length === 0) return;
    // The last of a repeated id wins, as in SQLite's loop (one upsert may not touch a row twice).
    const unique = [...new Map(notifications.map((n) => [n.id, n])).values()];
    // One statement for the batch: one transaction, one round trip.
    await this.pool.query(
      `INSERT INTO notification_archive (user_id, id, updated_at, read_at, archived_at, changed_at, body)
       SELECT $1, n.id, n.updated_at, n.read_at, n.archived_at, n.changed_at, n.body
       FROM unnest($2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::text[]) AS n (id, updated_at, read_at, archived_at, changed_at, body)
       ON CONFLICT (user_id, id) DO UPDATE SET updated_at = excluded.updated_at, read_at = excluded.read_at,
         archived_at = excluded.archived_at, changed_at = excluded.changed_at, body = excluded.body`,
      [
        userId,
        unique.map((n) => n.id),
        unique.map((n) => n.updatedAt),
        unique.map((n) => n.readAt),
        unique.map((n) => n.archivedAt),
        unique.map((n) => notificationLastChange(n)),
        unique.map((n) => JSON.stringify(n)),
      ],
    );
  }

  async get(userId: string, id: string): Promise<Notification | null> {
    const row = (await this.pool.query<{ body: string }>('SELECT body FROM notification_archive WHERE user_id = $1 AND id = $2', [userId, id])).rows[0];
    return row ? (JSON.parse(row.body) as Notification) : null;
  }

  async withIdPrefix(userId: string, prefix: string): Promise<Notification[]> {
    // Keys are COLLATE "C": the range is bytewise, as the prefix means.
    const { rows } = await this.pool.query<{ body: string }>(
      'SELECT body FROM notification_archive WHERE user_id = $1 AND id >= $2 AND id < $3 ORDER BY id',
      [userId, prefix, prefixEnd(prefix)],
    );
    return rows.map((row) => JSON.parse(row.body) as Notification);
  }

  async setBodies(userId: string, bodies: ReadonlyArray<{ id: string; body: string }>): Promise<void> {
    if (bodies.length === 0) return;
    await this.pool.query(
      `UPDATE notification_archive a SET body = jsonb_set(a.body::jsonb, '{body}', to_jsonb(n.body))::text
       FROM unnest($2::text[], $3::text[]) AS n (id, body) WHERE a.user_id = $1 AND a.id = n.id`,
      [userId, bodies.map((b) => b.id), bodies.map((b) => b.body)],
    );
  }

  async remove(userId: string, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.pool.query('DELETE FROM notification_archive WHERE user_id = $1 AND id = ANY($2::text[])', [userId, ids]);
  }

  async page(userId: string, options: { after: { updatedAt: number; id: string } | null; limit: number; includeArchived: boolean }): Promise<Notification[]> {
    const { after, limit, includeArchived } = options;
    // Row-value comparison walks notification_archive_newest from the cursor: O(page) at any depth.
    const result = await this.pool.query<{ body: string }>(
      `SELECT body FROM notification_archive
       WHERE user_id = $1 AND ($2::bigint IS NULL OR (updated_at, id) < ($2::bigint, $3::text)) AND ($4::boolean OR archived_at IS NULL)
       ORDER BY updated_at DESC, id DESC LIMIT $5`,
      [userId, after?.updatedAt ?? null, after?.id ?? '', includeArchived, limit],
    );
    return result.rows.map((row) => JSON.parse(row.body) as Notification);
  }

  async prune(cutoff: number): Promise<number> {
    return changed(await this.pool.query('DELETE FROM notification_archive WHERE changed_at < $1', [cutoff]));
  }
}
