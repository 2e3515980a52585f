import type { Database } from 'better-sqlite3';
import type { ClientBindingStore } from '../Storage';
import { statementCache } from './statementCache';

export class SqliteClientBindingStore implements ClientBindingStore {
  private readonly sql: ReturnType<typeof statementCache>;

  constructor(private readonly db: Database) {
    this.sql = statementCache(db);
  }

  async owner(doc: string, clientId: number): Promise<string | null> {
    const row = this.sql('SELECT user_id FROM client_bindings WHERE doc = ? AND client_id = ?').get(doc, clientId) as
      | { user_id: string }
      | undefined;
    return row?.user_id ?? null;
  }

  async bind(doc: string, clientId: number, userId: string): Promise<string> {
    const row = this.sql('INSERT INTO client_bindings (doc, client_id, user_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING RETURNING user_id').get(doc, clientId, userId) as
      | { user_id: string }
      | undefined;
    return row?.user_id ?? (await this.owner(doc, clientId)) ?? userId;
  }

  async all(doc: string): Promise<Map<number, string>> {
    const rows = this.sql('SELECT client_id, user_id FROM client_bindings WHERE doc = ?').all(doc) as { client_id: number; user_id: string }[];
    return new Map(rows.map((r) => [r.client_id, r.user_id]));
  }

  async anyRetired(doc: string, clientIds: readonly number[]): Promise<boolean> {
    if (clientIds.length === 0) return false;
    // One query for the whole state vector, however many ids it names.
    const hit = this.sql('SELECT 1 FROM retired_clients WHERE doc = ? AND client_id IN (SELECT value FROM json_each(?)) LIMIT 1').get(doc, JSON.stringify(clientIds));
    return hit !== undefined;
  }
}
