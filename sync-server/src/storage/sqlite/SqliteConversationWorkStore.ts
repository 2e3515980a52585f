import type { Database } from 'better-sqlite3';
import type { ConversationWorkStore, WorkClaim } from '../Storage';
import { statementCache } from './statementCache';
import type { GroupCommit } from './GroupCommit';

/**
 * The chat notifier's durable marks (a row per conversation with a version
 * every change bumps) and its recompute claims.
 *
 * One process holds a SQLite file, so a claim can only be this process's
 * own, and one found at open would be a dead run's: claims live in memory
 * here, not in the row (on PostgreSQL, shared by nodes, they are columns).
 * A claim then costs a read in the group commit instead of a write and a
 * commit of its own: one transaction less per recompute (issue 13).
 */
export class SqliteConversationWorkStore implements ConversationWorkStore {
  private readonly sql: ReturnType<typeof statementCache>;
  /** conversation -> who claimed its recompute, until when. */
  private readonly claims = new Map<string, { claimant: string; until: number }>();

  constructor(
    private readonly db: Database,
    private readonly commits: GroupCommit,
  ) {
    this.sql = statementCache(db);
    // Rows from a version that kept claims in the row (migration 12's columns, unused since).
    db.prepare('UPDATE conversation_work SET claimed_by = NULL, claimed_until = NULL WHERE claimed_by IS NOT NULL').run();
  }

  async mark(conversationId: string): Promise<void> {
    const statement = this.sql('INSERT INTO conversation_work (conversation_id, version) VALUES (?, 1) ON CONFLICT (conversation_id) DO UPDATE SET version = version + 1');
    await this.commits.run(() => statement.run(conversationId));
  }

  async claim(conversationId: string, claimant: string, until: number, now: number): Promise<WorkClaim> {
    const read = this.sql('SELECT version FROM conversation_work WHERE conversation_id = ?');
    // Through the group commit: the version read after the marks queued before it.
    return this.commits.run((): WorkClaim => {
      const version = read.pluck().get(conversationId) as number | undefined;
      if (version === undefined) return { kind: 'none' };
      const held = this.claims.get(conversationId);
      if (held && held.claimant !== claimant && held.until >= now) return { kind: 'busy', until: held.until };
      this.claims.set(conversationId, { claimant, until });
      return { kind: 'claimed', version };
    });
  }

  async clear(conversationId: string, version: number, claimant: string): Promise<boolean> {
    const remove = this.sql('DELETE FROM conversation_work WHERE conversation_id = ? AND version = ?');
    const exists = this.sql('SELECT 1 FROM conversation_work WHERE conversation_id = ?');
    // As on PostgreSQL: the row that stays loses the claimant's claim, and its being there is the answer.
    return this.commits.run(() => {
      if (this.claims.get(conversationId)?.claimant === claimant) this.claims.delete(conversationId);
      if (remove.run(conversationId, version).changes > 0) {
        this.claims.delete(conversationId);
        return false;
      }
      return exists.get(conversationId) !== undefined;
    });
  }

  async release(conversationId: string, claimant: string): Promise<void> {
    if (this.claims.get(conversationId)?.claimant === claimant) this.claims.delete(conversationId);
  }

  async all(): Promise<string[]> {
    return this.sql('SELECT conversation_id FROM conversation_work ORDER BY conversation_id').pluck().all() as string[];
  }
}
