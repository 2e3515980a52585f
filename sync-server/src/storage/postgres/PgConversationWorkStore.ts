import type pg from 'pg';
import type { ConversationWorkStore } from '../Storage';
import type { PgGroupCommit } from './PgGroupCommit';

/** Marks and clears go through the group commit, so they are ordered with appends (see ConversationWorkStore). */
export class PgConversationWorkStore implements ConversationWorkStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly commits: PgGroupCommit,
  ) {}

  async mark(conversationId: string): Promise<void> {
    await this.commits.run((client) =>
      client.query('INSERT INTO conversation_work (conversation_id, version) VALUES ($1, 1) ON CONFLICT (conversation_id) DO NOTHING', [conversationId]),
    );
  }

  async clear(conversationId: string): Promise<void> {
    await this.commits.run((client) => client.query('DELETE FROM conversation_work WHERE conversation_id = $1', [conversationId]));
  }

  async all(): Promise<string[]> {
    return (await this.pool.query<{ conversation_id: string }>('SELECT conversation_id FROM conversation_work ORDER BY conversation_id')).rows.map((r) => r.conversation_id);
  }
}
