import type pg from 'pg';
import type { BlockRecord, BlockStore } from '../Storage';
import { changed } from './PgPool';

interface Row {
  blocker: string;
  blocked: string;
  created_at: number;
}

const toRecord = (r: Row): BlockRecord => ({ blocker: r.blocker, blocked: r.blocked, createdAt: r.created_at });

/** Who blocked whom (migration 10), plain rows as SqliteBlockStore keeps them. */
export class PgBlockStore implements BlockStore {
  constructor(private readonly pool: pg.Pool) {}

  async add(blocker: string, blocked: string, at: number): Promise<boolean> {
    return changed(await this.pool.query('INSERT INTO blocks (blocker, blocked, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [blocker, blocked, at])) > 0;
  }

  async remove(blocker: string, blocked: string): Promise<boolean> {
    return changed(await this.pool.query('DELETE FROM blocks WHERE blocker = $1 AND blocked = $2', [blocker, blocked])) > 0;
  }

  async has(blocker: string, blocked: string): Promise<boolean> {
    return (await this.pool.query('SELECT 1 FROM blocks WHERE blocker = $1 AND blocked = $2', [blocker, blocked])).rows.length > 0;
  }

  async list(blocker: string): Promise<BlockRecord[]> {
    const result = await this.pool.query<Row>('SELECT blocker, blocked, created_at FROM blocks WHERE blocker = $1 ORDER BY created_at DESC, blocked', [blocker]);
    return result.rows.map(toRecord);
  }

  async count(blocker: string): Promise<number> {
    return (await this.pool.query<{ n: number }>('SELECT count(*) AS n FROM blocks WHERE blocker = $1', [blocker])).rows[0]!.n;
  }

  async blockersOf(blocked: string, blockers: string[]): Promise<string[]> {
    if (blockers.length === 0) return [];
    const result = await this.pool.query<{ blocker: string }>('SELECT blocker FROM blocks WHERE blocked = $1 AND blocker = ANY($2::text[])', [blocked, blockers]);
    return result.rows.map((r) => r.blocker);
  }

  async amongMembers(conversationId: string): Promise<Map<string, Set<string>>> {
    const result = await this.pool.query<{ blocker: string; blocked: string }>(
      `SELECT b.blocker, b.blocked FROM members m
         JOIN blocks b ON b.blocker = m.user_id
         JOIN members o ON o.conversation_id = m.conversation_id AND o.user_id = b.blocked
       WHERE m.conversation_id = $1`,
      [conversationId],
    );
    const map = new Map<string, Set<string>>();
    for (const { blocker, blocked } of result.rows) {
      let set = map.get(blocker);
      if (!set) map.set(blocker, (set = new Set()));
      set.add(blocked);
    }
    return map;
  }
}
