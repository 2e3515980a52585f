import type pg from 'pg';
import type { ClientBindingStore } from '../Storage';

export class PgClientBindingStore implements ClientBindingStore {
  constructor(private readonly pool: pg.Pool) {}

  async owner(doc: string, clientId: number): Promise<string | null> {
    const row = (await this.pool.query<{ user_id: string }>('SELECT user_id FROM client_bindings WHERE doc = $1 AND client_id = $2', [doc, clientId])).rows[0];
    return row?.user_id ?? null;
  }

  async bind(doc: string, clientId: number, userId: string): Promise<string> {
    // One statement: the row inserted, or the one already there (another server's, maybe).
    const result = await this.pool.query<{ user_id: string }>(
      `WITH ins AS (INSERT INTO client_bindings (doc, client_id, user_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING user_id)
       SELECT user_id FROM ins UNION ALL SELECT user_id FROM client_bindings WHERE doc = $1 AND client_id = $2 LIMIT 1`,
      [doc, clientId, userId],
    );
    // No row: a concurrent binding committed while this one waited, after this statement's snapshot.
    return result.rows[0]?.user_id ?? (await this.owner(doc, clientId)) ?? userId;
  }

  async all(doc: string): Promise<Map<number, string>> {
    const rows = (await this.pool.query<{ client_id: number; user_id: string }>('SELECT client_id, user_id FROM client_bindings WHERE doc = $1', [doc])).rows;
    return new Map(rows.map((r) => [r.client_id, r.user_id]));
  }

  async anyRetired(doc: string, clientIds: readonly number[]): Promise<boolean> {
    if (clientIds.length === 0) return false;
    // One query for the whole state vector, however many ids it names.
    const result = await this.pool.query('SELECT 1 FROM retired_clients WHERE doc = $1 AND client_id = ANY($2::bigint[]) LIMIT 1', [doc, clientIds]);
    return result.rows.length > 0;
  }
}
