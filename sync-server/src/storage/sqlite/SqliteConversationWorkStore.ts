import type { Database } from 'better-sqlite3';
import type { ConversationWorkStore } from '../Storage';
import { statementCache } from './statementCache';
import type { GroupCommit } from './GroupCommit';

export class SqliteConversationWorkStore implements ConversationWorkStore {
  private readonly sql: ReturnType<typeof statementCache>;

  constructor(
    private readonly db: Database,
    private readonly commits: GroupCommit,
  ) {
    this.sql = statementCache(db);
  }

  async mark(conversationId: string): Promise<number> {
    const statement = this.sql(
      'INSERT INTO conversation_work (conversation_id, version) VALUES (?, 1) ON CONFLICT (conversation_id) DO UPDATE SET version = version + 1 RETURNING version',
    ).pluck();
    return this.commits.run(() => statement.get(conversationId) as number);
  }

  async version(conversationId: string): Promise<number | null> {
    return (this.sql('SELECT version FROM conversation_work WHERE conversation_id = ?').pluck().get(conversationId) as number | undefined) ?? null;
  }

  async clear(conversationId: string, version: number): Promise<void> {
    this.sql('DELETE FROM conversation_work WHERE conversation_id = ? AND version = ?').run(conversationId, version);
  }

  async all(): Promise<Array<{ conversationId: string; version: number }>> {
    const rows = this.sql('SELECT conversation_id, version FROM conversation_work ORDER BY conversation_id').all() as { conversation_id: string; version: number }[];
    return rows.map((r) => ({ conversationId: r.conversation_id, version: r.version }));
  }
}
