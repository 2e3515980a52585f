import type pg from 'pg';
import type { ConversationWorkStore } from '../Storage';
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

  async version(conversationId: string): Promise<number | null> {
    const { rows } = await this.pool.query<{ version: number }>('SELECT version FROM conversation_work WHERE conversation_id = $1', [conversationId]);
    return rows[0]?.version ?? null;
  }

  async clear(conversationId: string, version: number): Promise<void> {
    const text = `DELETE FROM conversation_work WHERE conversation_id = ${lit(conversationId)} AND version = ${lit(version)}`;
    await this.commits.run({ sql: () => ({ text }) });
  }

  async all(): Promise<string[]> {
    return (await this.pool.query<{ conversation_id: string }>('SELECT conversation_id FROM conversation_work ORDER BY conversation_id')).rows.map((r) => r.conversation_id);
  }
}
