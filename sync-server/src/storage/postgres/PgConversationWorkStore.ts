import type pg from 'pg';
import type { ConversationWorkStore, WorkClaim } from '../Storage';
import type { PgGroupCommit } from './PgGroupCommit';
import { lit } from './pgLiteral';

/** Marks and clears go through the group commit, so they are ordered with appends (see ConversationWorkStore). */
export class PgConversationWorkStore implements ConversationWorkStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly commits: PgGroupCommit,
  ) {}

  async mark(conversationId: string): Promise<void> {
    const text = `INSERT INTO conversation_work (conversation_id, version) VALUES (${lit(conversationId)}, 1) ON CONFLICT (conversation_id) DO UPDATE SET version = conversation_work.version + 1`;
    await this.commits.run({ sql: () => ({ text }) });
  }

  async claim(conversationId: string, claimant: string, until: number, now: number): Promise<WorkClaim> {
    // One statement: the row lock of the UPDATE decides between two nodes claiming at once.
    const { rows } = await this.pool.query<{ version: number; claimed_until: string | null; taken: boolean }>(
      `WITH taken AS (
         UPDATE conversation_work SET claimed_by = $2, claimed_until = $3
         WHERE conversation_id = $1 AND (claimed_by IS NULL OR claimed_by = $2 OR claimed_until < $4)
         RETURNING version
       )
       SELECT version, NULL AS claimed_until, true AS taken FROM taken
       UNION ALL
       SELECT version, claimed_until, false FROM conversation_work WHERE conversation_id = $1 AND NOT EXISTS (SELECT 1 FROM taken)`,
      [conversationId, claimant, until, now],
    );
    const row = rows[0];
    if (!row) return { kind: 'none' };
    return row.taken ? { kind: 'claimed', version: row.version } : { kind: 'busy', until: Number(row.claimed_until) };
  }

  async clear(conversationId: string, version: number, claimant: string): Promise<boolean> {
    return this.commits.run(async (client) => {
      // The DELETE and the UPDATE see the same snapshot: the row stays exactly when nothing was deleted.
      const { rows } = await client.query<{ kept: number }>(
        `WITH gone AS (DELETE FROM conversation_work WHERE conversation_id = $1 AND version = $2 RETURNING 1),
         kept AS (
           UPDATE conversation_work
           SET claimed_by = CASE WHEN claimed_by = $3 THEN NULL ELSE claimed_by END,
               claimed_until = CASE WHEN claimed_by = $3 THEN NULL ELSE claimed_until END
           WHERE conversation_id = $1 AND NOT EXISTS (SELECT 1 FROM gone) RETURNING 1
         )
         SELECT count(*)::int AS kept FROM kept`,
        [conversationId, version, claimant],
      );
      return (rows[0]?.kept ?? 0) > 0;
    });
  }

  async release(conversationId: string, claimant: string): Promise<void> {
    const text = releaseSql(conversationId, claimant);
    await this.commits.run({ sql: () => ({ text }) });
  }

  async all(): Promise<string[]> {
    return (await this.pool.query<{ conversation_id: string }>('SELECT conversation_id FROM conversation_work ORDER BY conversation_id')).rows.map((r) => r.conversation_id);
  }
}

const releaseSql = (conversationId: string, claimant: string): string =>
  `UPDATE conversation_work SET claimed_by = NULL, claimed_until = NULL WHERE conversation_id = ${lit(conversationId)} AND claimed_by = ${lit(claimant)}`;
