import type pg from 'pg';
import type { ConversationKind, MemberRole } from '@parley/schema';
import type { ConversationRecord, ConversationStore, MemberRecord, NewConversation } from '../Storage';
import { changed, transaction } from './PgPool';

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

const COLUMNS = 'id, kind, title, created_by, created_at, ref_type, ref_id';

export class PgConversationStore implements ConversationStore {
  constructor(private readonly pool: pg.Pool) {}

  async create(c: NewConversation): Promise<{ id: string; created: boolean }> {
    return transaction(this.pool, async (client) => {
      // ON CONFLICT covers the id and the direct key, also against another server creating it at the same moment.
      const inserted = await client.query(
        `INSERT INTO conversations (id, kind, title, created_by, created_at, ref_type, ref_id, direct_key)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
        [c.id, c.kind, c.title, c.createdBy, c.createdAt, c.ref?.type ?? null, c.ref?.id ?? null, c.directKey],
      );
      if (changed(inserted) === 0) {
        const existing = await client.query<{ id: string }>('SELECT id FROM conversations WHERE id = $1 OR ($2::text IS NOT NULL AND direct_key = $2) ORDER BY id = $1 DESC LIMIT 1', [
          c.id,
          c.directKey,
        ]);
        return { id: existing.rows[0]!.id, created: false };
      }
      for (const m of c.members) {
        await client.query('INSERT INTO members (conversation_id, user_id, role, joined_at) VALUES ($1, $2, $3, $4)', [c.id, m.userId, m.role, m.joinedAt]);
      }
      return { id: c.id, created: true };
    });
  }

  async get(id: string): Promise<ConversationRecord | null> {
    const row = (await this.pool.query<ConversationRow>(`SELECT ${COLUMNS} FROM conversations WHERE id = $1`, [id])).rows[0];
    return row ? toRecord(row) : null;
  }

  async members(id: string): Promise<MemberRecord[]> {
    const result = await this.pool.query<{ user_id: string; role: MemberRole; joined_at: number }>(
      'SELECT user_id, role, joined_at FROM members WHERE conversation_id = $1 ORDER BY joined_at, user_id',
      [id],
    );
    return result.rows.map((r) => ({ userId: r.user_id, role: r.role, joinedAt: r.joined_at }));
  }

  async role(id: string, userId: string): Promise<MemberRole | null> {
    const row = (await this.pool.query<{ role: MemberRole }>('SELECT role FROM members WHERE conversation_id = $1 AND user_id = $2', [id, userId])).rows[0];
    return row?.role ?? null;
  }

  async addMember(id: string, m: MemberRecord): Promise<boolean> {
    const result = await this.pool.query('INSERT INTO members (conversation_id, user_id, role, joined_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING', [
      id,
      m.userId,
      m.role,
      m.joinedAt,
    ]);
    return changed(result) > 0;
  }

  async removeMember(id: string, userId: string): Promise<boolean> {
    // One statement, so one transaction: the member is never gone without being remembered.
    const result = await this.pool.query(
      `WITH gone AS (DELETE FROM members WHERE conversation_id = $1 AND user_id = $2 RETURNING conversation_id, user_id)
       INSERT INTO former_members (conversation_id, user_id, left_at) SELECT conversation_id, user_id, $3 FROM gone
       ON CONFLICT (conversation_id, user_id) DO UPDATE SET left_at = excluded.left_at`,
      [id, userId, Date.now()],
    );
    return changed(result) > 0;
  }

  async formerMembers(id: string): Promise<string[]> {
    const { rows } = await this.pool.query<{ user_id: string }>('SELECT user_id FROM former_members WHERE conversation_id = $1 ORDER BY user_id', [id]);
    return rows.map((r) => r.user_id);
  }

  async forgetFormerMember(id: string, userId: string): Promise<void> {
    await this.pool.query('DELETE FROM former_members WHERE conversation_id = $1 AND user_id = $2', [id, userId]);
  }

  async setTitle(id: string, title: string): Promise<boolean> {
    return changed(await this.pool.query('UPDATE conversations SET title = $1 WHERE id = $2', [title, id])) > 0;
  }

  async listFor(userId: string): Promise<ConversationRecord[]> {
    const result = await this.pool.query<ConversationRow>(
      `SELECT ${COLUMNS.split(', ').map((c) => `c.${c}`).join(', ')} FROM conversations c JOIN members m ON m.conversation_id = c.id
       WHERE m.user_id = $1 ORDER BY c.created_at DESC, c.id`,
      [userId],
    );
    return result.rows.map(toRecord);
  }

  async shareAny(userA: string, userB: string): Promise<boolean> {
    const result = await this.pool.query('SELECT 1 FROM members a JOIN members b ON a.conversation_id = b.conversation_id WHERE a.user_id = $1 AND b.user_id = $2 LIMIT 1', [
      userA,
      userB,
    ]);
    return result.rows.length > 0;
  }

  async memberCount(id: string): Promise<number> {
    return (await this.pool.query<{ n: number }>('SELECT count(*) AS n FROM members WHERE conversation_id = $1', [id])).rows[0]!.n;
  }

  async ownedCount(userId: string): Promise<number> {
    return (await this.pool.query<{ n: number }>("SELECT count(*) AS n FROM members WHERE user_id = $1 AND role = 'owner'", [userId])).rows[0]!.n;
  }
}
