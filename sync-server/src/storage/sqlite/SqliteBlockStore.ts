import type { Database } from 'better-sqlite3';
import type { BlockRecord, BlockStore } from '../Storage';
import { statementCache } from './statementCache';

interface Row {
  blocker: string;
  blocked: string;
  created_at: number;
}

const toRecord = (r: Row): BlockRecord => ({ blocker: r.blocker, blocked: r.blocked, createdAt: r.created_at });

export class SqliteBlockStore implements BlockStore {
  private readonly sql: ReturnType<typeof statementCache>;

  constructor(db: Database) {
    this.sql = statementCache(db);
  }

  async add(blocker: string, blocked: string, at: number): Promise<boolean> {
    return this.sql('INSERT INTO blocks (blocker, blocked, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING').run(blocker, blocked, at).changes > 0;
  }

  async remove(blocker: string, blocked: string): Promise<boolean> {
    return this.sql('DELETE FROM blocks WHERE blocker = ? AND blocked = ?').run(blocker, blocked).changes > 0;
  }

  async has(blocker: string, blocked: string): Promise<boolean> {
    return this.sql('SELECT 1 FROM blocks WHERE blocker = ? AND blocked = ?').get(blocker, blocked) !== undefined;
  }

  async list(blocker: string): Promise<BlockRecord[]> {
    return (this.sql('SELECT blocker, blocked, created_at FROM blocks WHERE blocker = ? ORDER BY created_at DESC, blocked').all(blocker) as Row[]).map(toRecord);
  }

  async count(blocker: string): Promise<number> {
    return this.sql('SELECT count(*) FROM blocks WHERE blocker = ?').pluck().get(blocker) as number;
  }

  async blockersOf(blocked: string, blockers: string[]): Promise<string[]> {
    if (blockers.length === 0) return [];
    const wanted = new Set(blockers);
    // A user is blocked by few: read them all and intersect, one statement whatever the list.
    const all = this.sql('SELECT blocker FROM blocks WHERE blocked = ?').pluck().all(blocked) as string[];
    return all.filter((blocker) => wanted.has(blocker));
  }

  async amongMembers(conversationId: string): Promise<Map<string, Set<string>>> {
    const rows = this.sql(
      `SELECT b.blocker, b.blocked FROM members m
         JOIN blocks b ON b.blocker = m.user_id
         JOIN members o ON o.conversation_id = m.conversation_id AND o.user_id = b.blocked
       WHERE m.conversation_id = ?`,
    ).all(conversationId) as Array<{ blocker: string; blocked: string }>;
    const map = new Map<string, Set<string>>();
    for (const { blocker, blocked } of rows) {
      let set = map.get(blocker);
      if (!set) map.set(blocker, (set = new Set()));
      set.add(blocked);
    }
    return map;
  }
}
