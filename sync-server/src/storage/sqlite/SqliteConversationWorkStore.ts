import type { Database } from 'better-sqlite3';
import type { ConversationWorkStore, WorkClaim } from '../Storage';
import { statementCache } from './statementCache';
import type { GroupCommit } from './GroupCommit';

export class SqliteConversationWorkStore implements ConversationWorkStore {
  private readonly sql: ReturnType<typeof statementCache>;

  constructor(
    private readonly db: Database,
    private readonly commits: GroupCommit,
  ) {
    this.sql = statementCache(db);
    // One process holds a SQLite file: a claim found at open is a previous run's, which is gone.
    db.prepare('UPDATE conversation_work SET claimed_by = NULL, claimed_until = NULL WHERE claimed_by IS NOT NULL').run();
  }

  async mark(conversationId: string): Promise<void> {
    const statement = this.sql('INSERT INTO conversation_work (conversation_id, version) VALUES (?, 1) ON CONFLICT (conversation_id) DO UPDATE SET version = version + 1');
    await this.commits.run(() => statement.run(conversationId));
  }

  async claim(conversationId: string, claimant: string, until: number, now: number): Promise<WorkClaim> {
    const take = this.sql('UPDATE conversation_work SET claimed_by = ?, claimed_until = ? WHERE conversation_id = ? AND (claimed_by IS NULL OR claimed_by = ? OR claimed_until < ?) RETURNING version');
    const read = this.sql('SELECT claimed_until FROM conversation_work WHERE conversation_id = ?');
    // Through the group commit: a claim is a write, ordered with the marks before it.
    return this.commits.run((): WorkClaim => {
      const taken = take.pluck().get(claimant, until, conversationId, claimant, now) as number | undefined;
      if (taken !== undefined) return { kind: 'claimed', version: taken };
      const held = read.pluck().get(conversationId) as number | null | undefined;
      return held === undefined ? { kind: 'none' } : { kind: 'busy', until: held ?? now };
    });
  }

  async clear(conversationId: string, version: number, claimant: string): Promise<boolean> {
    const remove = this.sql('DELETE FROM conversation_work WHERE conversation_id = ? AND version = ?');
    // As on PostgreSQL: the row that stays loses the claimant's claim, and its being there is the answer.
    const keep = this.sql(`UPDATE conversation_work
      SET claimed_by = CASE WHEN claimed_by = :claimant THEN NULL ELSE claimed_by END,
          claimed_until = CASE WHEN claimed_by = :claimant THEN NULL ELSE claimed_until END
      WHERE conversation_id = :conversationId`);
    return this.commits.run(() => {
      if (remove.run(conversationId, version).changes > 0) return false;
      return keep.run({ conversationId, claimant }).changes > 0;
    });
  }

  async release(conversationId: string, claimant: string): Promise<void> {
    const release = this.releaseStatement();
    await this.commits.run(() => release.run(conversationId, claimant));
  }

  async all(): Promise<string[]> {
    return this.sql('SELECT conversation_id FROM conversation_work ORDER BY conversation_id').pluck().all() as string[];
  }

  private releaseStatement() {
    return this.sql('UPDATE conversation_work SET claimed_by = NULL, claimed_until = NULL WHERE conversation_id = ? AND claimed_by = ?');
  }
}
