import type { Database } from 'better-sqlite3';
import type { ConversationKind, MemberRole } from '@parley/schema';
import type { ConversationRecord, ConversationStore, MemberRecord, NewConversation } from '../Storage';
import { statementCache } from './statementCache';

interface ConversationRow {
  id: string;
  kind: string;
  title: string;
  created_by: string;
  created_at: number;
  ref_type: string | null;
  ref_id: string | null;
}

const toRecord = (row: ConversationRow): ConversationRecord => ({
  id: row.id,
  kind: row.kind as ConversationKind,
  title: row.title,
  createdBy: row.created_by,
  createdAt: row.created_at,
  ref: row.ref_type && row.ref_id ? { type: row.ref_type, id: row.ref_id } : null,
});

export class SqliteConversationStore implements ConversationStore {
  private readonly sql: ReturnType<typeof statementCache>;

  constructor(private readonly db: Database) {
    this.sql = statementCache(db);
  }

  async create(c: NewConversation): Promise<{ id: string; created: boolean }> {
    return this.db.transaction(() => {
      const existing = (
        c.directKey
          ? this.sql('SELECT id FROM conversations WHERE direct_key = ? OR id = ?').get(c.directKey, c.id)
          : this.sql('SELECT id FROM conversations WHERE id = ?').get(c.id)
      ) as { id: string } | undefined;
      if (existing) return { id: existing.id, created: false };
      this.sql(
          'INSERT INTO conversations (id, kind, title, created_by, created_at, ref_type, ref_id, direct_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
        )
        .run(c.id, c.kind, c.title, c.createdBy, c.createdAt, c.ref?.type ?? null, c.ref?.id ?? null, c.directKey);
      const add = this.sql('INSERT INTO members (conversation_id, user_id, role, joined_at) VALUES (?, ?, ?, ?)');
      for (const m of c.members) add.run(c.id, m.userId, m.role, m.joinedAt);
      return { id: c.id, created: true };
    }).immediate();
  }

  async get(id: string): Promise<ConversationRecord | null> {
    const row = this.sql('SELECT * FROM conversations WHERE id = ?').get(id) as ConversationRow | undefined;
    return row ? toRecord(row) : null;
  }

  async members(id: string): Promise<MemberRecord[]> {
    const rows = this.sql('SELECT user_id, role, joined_at FROM members WHERE conversation_id = ? ORDER BY joined_at, user_id')
      .all(id) as { user_id: string; role: MemberRole; joined_at: number }[];
    return rows.map((r) => ({ userId: r.user_id, role: r.role, joinedAt: r.joined_at }));
  }

  async role(id: string, userId: string): Promise<MemberRole | null> {
    const row = this.sql('SELECT role FROM members WHERE conversation_id = ? AND user_id = ?').get(id, userId) as
      | { role: MemberRole }
      | undefined;
    return row?.role ?? null;
  }

  async addMember(id: string, m: MemberRecord): Promise<boolean> {
    const result = this.sql('INSERT INTO members (conversation_id, user_id, role, joined_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING')
      .run(id, m.userId, m.role, m.joinedAt);
    return result.changes > 0;
  }

  async removeMember(id: string, userId: string): Promise<boolean> {
    return this.db.transaction(() => {
      if (this.sql('DELETE FROM members WHERE conversation_id = ? AND user_id = ?').run(id, userId).changes === 0) return false;
      this.sql('INSERT INTO former_members (conversation_id, user_id, left_at) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET left_at = excluded.left_at')
        .run(id, userId, Date.now());
      return true;
    }).immediate();
  }

  async formerMembers(id: string): Promise<string[]> {
    return this.sql('SELECT user_id FROM former_members WHERE conversation_id = ? ORDER BY user_id').pluck().all(id) as string[];
  }

  async forgetFormerMember(id: string, userId: string): Promise<void> {
    this.sql('DELETE FROM former_members WHERE conversation_id = ? AND user_id = ?').run(id, userId);
  }

  async setTitle(id: string, title: string): Promise<boolean> {
    return this.sql('UPDATE conversations SET title = ? WHERE id = ?').run(title, id).changes > 0;
  }

  async listFor(userId: string): Promise<ConversationRecord[]> {
    const rows = this.sql(
        'SELECT c.* FROM conversations c JOIN members m ON m.conversation_id = c.id WHERE m.user_id = ? ORDER BY c.created_at DESC, c.id',
      )
      .all(userId) as ConversationRow[];
    return rows.map(toRecord);
  }

  async shareAny(userA: string, userB: string): Promise<boolean> {
    const row = this.sql(
        'SELECT 1 FROM members a JOIN members b ON a.conversation_id = b.conversation_id WHERE a.user_id = ? AND b.user_id = ? LIMIT 1',
      )
      .get(userA, userB);
    return row !== undefined;
  }

  async memberCount(id: string): Promise<number> {
    return (this.sql('SELECT count(*) AS n FROM members WHERE conversation_id = ?').get(id) as { n: number }).n;
  }

  async ownedCount(userId: string): Promise<number> {
    return (this.sql("SELECT count(*) AS n FROM members WHERE user_id = ? AND role = 'owner'").get(userId) as { n: number }).n;
  }
}
