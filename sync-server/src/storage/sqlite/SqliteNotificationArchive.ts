import type { Database } from 'better-sqlite3';
import { notificationLastChange, type Notification } from '@parley/schema';
import type { NotificationArchive } from '../Storage';
import { statementCache } from './statementCache';
import { prefixEnd } from '../prefixEnd';

/**
 * Settled notifications out of their inbox document. The whole notification
 * is kept as JSON (`body`); the columns beside it are what pages and
 * retention select on.
 */
export class SqliteNotificationArchive implements NotificationArchive {
  private readonly sql: ReturnType<typeof statementCache>;

  constructor(private readonly db: Database) {
    this.sql = statementCache(db);
  }

  async put(userId: string, notifications: readonly Notification[]): Promise<void> {
    const upsert = this.sql(
      `INSERT INTO notification_archive (user_id, id, updated_at, read_at, archived_at, changed_at, body) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (user_id, id) DO UPDATE SET updated_at = excluded.updated_at, read_at = excluded.read_at,
         archived_at = excluded.archived_at, changed_at = excluded.changed_at, body = excluded.body`,
    );
    this.db.transaction(() => {
      for (const n of notifications) upsert.run(userId, n.id, n.updatedAt, n.readAt, n.archivedAt, notificationLastChange(n), JSON.stringify(n));
    })();
  }

  async get(userId: string, id: string): Promise<Notification | null> {
    const body = this.sql('SELECT body FROM notification_archive WHERE user_id = ? AND id = ?').pluck().get(userId, id) as string | undefined;
    return body === undefined ? null : (JSON.parse(body) as Notification);
  }

  async withIdPrefix(userId: string, prefix: string): Promise<Notification[]> {
    const rows = this.sql('SELECT body FROM notification_archive WHERE user_id = ? AND id >= ? AND id < ? ORDER BY id')
      .pluck()
      .all(userId, prefix, prefixEnd(prefix)) as string[];
    return rows.map((body) => JSON.parse(body) as Notification);
  }

  async setBodies(userId: string, bodies: ReadonlyArray<{ id: string; body: string }>): Promise<void> {
    const set = this.sql("UPDATE notification_archive SET body = json_set(body, '$.body', ?) WHERE user_id = ? AND id = ?");
    this.db.transaction(() => {
      for (const { id, body } of bodies) set.run(body, userId, id);
    })();
  }

  async remove(userId: string, ids: readonly string[]): Promise<void> {
    const remove = this.sql('DELETE FROM notification_archive WHERE user_id = ? AND id = ?');
    this.db.transaction(() => {
      for (const id of ids) remove.run(userId, id);
    })();
  }

  async page(userId: string, options: { after: { updatedAt: number; id: string } | null; limit: number; includeArchived: boolean }): Promise<Notification[]> {
    const { after, limit, includeArchived } = options;
    // Row-value comparison walks notification_archive_newest from the cursor: O(page) at any depth.
    const rows = this.sql(
      `SELECT body FROM notification_archive
       WHERE user_id = :user AND (:at IS NULL OR (updated_at, id) < (:at, :id)) AND (:archived OR archived_at IS NULL)
       ORDER BY updated_at DESC, id DESC LIMIT :limit`,
    )
      .pluck()
      .all({ user: userId, at: after?.updatedAt ?? null, id: after?.id ?? '', archived: includeArchived ? 1 : 0, limit }) as string[];
    return rows.map((body) => JSON.parse(body) as Notification);
  }

  async prune(cutoff: number): Promise<number> {
    return this.sql('DELETE FROM notification_archive WHERE changed_at < ?').run(cutoff).changes;
  }
}
