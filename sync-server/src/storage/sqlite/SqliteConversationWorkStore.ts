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

  async mark(conversationId: string): Promise<void> {
    const statement = this.sql('INSERT INTO conversation_work (conversation_id, version) VALUES (?, 1) ON CONFLICT (conversation_id) DO UPDATE SET version = version + 1');
    await this.commits.run(() => statement.run(conversationId));
  }

  async version(conversationId: string): Promise<number | null> {
    const version = this.sql('SELECT version FROM conversation_work WHERE conversation_id = ?').pluck().get(conversationId) as number | undefined;
    return version ?? null;
  }

  async clear(conversationId: string, version: number): Promise<void> {
    const statement = this.sql('DELETE FROM conversation_work WHERE conversation_id = ? AND version = ?');
    await this.commits.run(() => statement.run(conversationId, version));
  }

  async all(): Promise<string[]> {
    return this.sql('SELECT conversation_id FROM conversation_work ORDER BY conversation_id').pluck().all() as string[];
  }
}
