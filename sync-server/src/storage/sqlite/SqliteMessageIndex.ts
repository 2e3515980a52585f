import type { Database } from 'better-sqlite3';
import { DEFAULTS, type Attachment, type MessageKind } from '@parley/schema';
import type { IndexChange, IndexableMessage, IndexedMessage, MessageIndex, MessagePage, SearchHit, SearchRequest } from '../Storage';
import { searchWindows, type RankedRow } from '../searchWindows';
import { statementCache } from './statementCache';
import { asStorageFailure } from '../StorageWriteError';
import type { GroupCommit } from './GroupCommit';

interface MessageRow {
  conversation_id: string;
  seq: number;
  id: string;
  author: string;
  kind: string;
  text: string;
  created_at: number;
  reply_to: string | null;
  attachments: string | null;
  mentions: string | null;
  edited_at: number | null;
  deleted_at: number | null;
  reactions: string;
}

const toMessage = (row: MessageRow): IndexedMessage => ({
  conversationId: row.conversation_id,
  seq: row.seq,
  id: row.id,
  author: row.author,
  kind: row.kind as MessageKind,
  text: row.text,
  createdAt: row.created_at,
  ...(row.reply_to !== null && { replyTo: row.reply_to }),
  ...(row.attachments !== null && { attachments: JSON.parse(row.attachments) as Attachment[] }),
  ...(row.mentions !== null && { mentions: JSON.parse(row.mentions) as string[] }),
  ...(row.edited_at !== null && { editedAt: row.edited_at }),
  ...(row.deleted_at !== null && { deletedAt: row.deleted_at }),
  reactions: JSON.parse(row.reactions) as Record<string, number>,
});

const COLUMNS = 'conversation_id, seq, id, author, kind, text, created_at, reply_to, attachments, mentions, edited_at, deleted_at, reactions';

/** Messages by others after the reader's receipt, not deleted, not system; an unknown receipt counts everything (seq 0). */
const UNREAD = `conversation_id = :c AND author != :u AND deleted_at IS NULL AND kind != 'system'
  AND author NOT IN (SELECT value FROM json_each(:ignored))
  AND seq > coalesce((SELECT m.seq FROM message_reads r JOIN messages m ON m.conversation_id = r.conversation_id AND m.id = r.message_id
                      WHERE r.conversation_id = :c AND r.user_id = :u), 0)`;

/**
 * The same count as UNREAD from the running tallies (migration 16): the
 * conversation's tally after the receipt, less each excluded author's (the
 * reader and the ignored ones, two index probes each),
 * less the deleted messages after the receipt by the others (a partial index
 * of deleted rows, named: the planner would as soon walk messages_by_seq from
 * the receipt). O(log n) per author plus the deletions after the receipt,
 * never the unread rows. The receipt is a scalar subquery, not a join: a bound
 * of each index range, so the probes stop at once.
 */
const UNREAD_BY_TALLY = `WITH
  receipt AS (SELECT coalesce((SELECT m.seq FROM message_reads r JOIN messages m ON m.conversation_id = r.conversation_id AND m.id = r.message_id
                               WHERE r.conversation_id = :c AND r.user_id = :u), 0) AS seq),
  excluded AS (SELECT :u AS author UNION SELECT value FROM json_each(:ignored))
SELECT
  coalesce((SELECT tally FROM messages WHERE conversation_id = :c ORDER BY seq DESC LIMIT 1), 0)
  - coalesce((SELECT m.tally FROM messages m WHERE m.conversation_id = :c AND m.seq = (SELECT seq FROM receipt)), 0)
  - coalesce((SELECT sum(
        coalesce((SELECT m.author_tally FROM messages m WHERE m.conversation_id = :c AND m.author = e.author ORDER BY m.seq DESC LIMIT 1), 0)
      - coalesce((SELECT m.author_tally FROM messages m WHERE m.conversation_id = :c AND m.author = e.author AND m.seq <= (SELECT seq FROM receipt)
                  ORDER BY m.seq DESC LIMIT 1), 0))
      FROM excluded e), 0)
  - (SELECT count(*) FROM messages AS m INDEXED BY messages_deleted WHERE m.conversation_id = :c AND m.deleted_at IS NOT NULL AND m.seq > (SELECT seq FROM receipt)
       AND m.kind != 'system' AND m.author NOT IN (SELECT author FROM excluded))`;

/**
 * The message index: one row per message, in the server's order of
 * acceptance (`seq`, per conversation), with an FTS5 table over the text kept
 * in step by triggers (see migrations). Writes are synchronous so a caller can
 * put them in the same transaction as the update they come from.
 *
 * The full-text entries of new and edited rows are written in batches
 * (migration 18): the triggers queue the rows in messages_fts_pending, a
 * write that brings the queue to DEFAULTS.searchIndexBatch indexes it in its
 * own transaction, and a search indexes what waits before it reads, so it
 * finds every message stored before it.
 */
export class SqliteMessageIndex implements MessageIndex {
  private readonly sql: ReturnType<typeof statementCache>;
  /** Rows written since the full-text index last took in the queue: at least as many as wait (an edit of a waiting row counts again). */
  private unindexed: number;

  constructor(
    private readonly db: Database,
    private readonly commits?: GroupCommit,
  ) {
    this.sql = statementCache(db);
    this.unindexed = this.sql('SELECT count(*) FROM messages_fts_pending').pluck().get() as number;
  }

  async existing(conversationId: string, ids: readonly string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    // Most updates bring one new message: a point lookup, a third of the json_each join's cost.
    if (ids.length === 1) return this.sql('SELECT id FROM messages WHERE conversation_id = ? AND id = ?').pluck().all(conversationId, ids[0]) as string[];
    return this.sql('SELECT id FROM messages WHERE conversation_id = ? AND id IN (SELECT value FROM json_each(?))').pluck().all(conversationId, JSON.stringify(ids)) as string[];
  }

  async writeArchived(change: IndexChange): Promise<void> {
    if (!this.commits) return this.write(change);
    await this.commits.run(() => this.writeNow(change));
  }

  async write(change: IndexChange, builtAt?: number): Promise<void> {
    this.db.transaction(() => {
      this.writeNow(change);
      if (builtAt !== undefined) this.markBuiltNow(change.conversationId, builtAt);
    })();
  }

  /** Synchronous, for the caller's transaction (an append's group commit). */
  writeNow(change: IndexChange): void {
    this.unindexed += this.writeMessages(change.conversationId, change.messages);
    for (const read of change.reads) this.writeRead(change.conversationId, read.userId, read.messageId, read.at);
    if (this.unindexed >= DEFAULTS.searchIndexBatch) this.indexPending();
  }

  /** Moves every queued row into the full-text index: inside the caller's transaction, or in one of its own. */
  indexPending(): void {
    // Before most searches nothing waits: a read, not a write transaction.
    if (this.sql('SELECT 1 FROM messages_fts_pending LIMIT 1').get() === undefined) return void (this.unindexed = 0);
    this.db.transaction(() => {
      this.sql('INSERT INTO messages_fts (rowid, text) SELECT m.rowid, m.text FROM messages_fts_pending p JOIN messages m ON m.rowid = p.row').run();
      this.sql('DELETE FROM messages_fts_pending').run();
    })();
    this.unindexed = 0;
  }

  async isBuilt(conversationId: string): Promise<boolean> {
    return this.sql('SELECT 1 FROM message_index_state WHERE conversation_id = ?').get(conversationId) !== undefined;
  }

  async markBuilt(conversationId: string, at: number): Promise<void> {
    this.markBuiltNow(conversationId, at);
  }

  private markBuiltNow(conversationId: string, at: number): void {
    this.sql('INSERT INTO message_index_state (conversation_id, built_at) VALUES (?, ?) ON CONFLICT DO NOTHING').run(conversationId, at);
  }

  async unbuilt(): Promise<string[]> {
    return this.sql('SELECT id FROM conversations WHERE id NOT IN (SELECT conversation_id FROM message_index_state) ORDER BY created_at, id').pluck().all() as string[];
  }

  /** Inserts new messages at the end of their conversation and updates known ones in place; returns the rows written. */
  private writeMessages(conversationId: string, messages: readonly IndexableMessage[]): number {
    const update = this.sql(
      `UPDATE messages SET text = :text, attachments = :attachments, mentions = :mentions, edited_at = :editedAt,
              deleted_at = :deletedAt, reactions = :reactions
       WHERE conversation_id = :conversationId AND id = :id
         AND (text IS NOT :text OR attachments IS NOT :attachments OR mentions IS NOT :mentions OR edited_at IS NOT :editedAt
              OR deleted_at IS NOT :deletedAt OR reactions IS NOT :reactions)`,
    );
    const exists = this.sql('SELECT 1 FROM messages WHERE conversation_id = ? AND id = ?').pluck();
    // A known message keeps its place; only a new one takes the next seq, and the running tallies
    // (migration 16) of the conversation's and of its author's newest rows, plus itself if it counts.
    const insert = this.sql(
      `INSERT INTO messages (${COLUMNS}, tally, author_tally)
       SELECT :conversationId, coalesce(max(seq), 0) + 1, :id, :author, :kind, :text, :createdAt, :replyTo, :attachments, :mentions,
              :editedAt, :deletedAt, :reactions,
              coalesce((SELECT tally FROM messages WHERE conversation_id = :conversationId ORDER BY seq DESC LIMIT 1), 0) + (:kind != 'system'),
              coalesce((SELECT author_tally FROM messages WHERE conversation_id = :conversationId AND author = :author ORDER BY seq DESC LIMIT 1), 0)
                + (:kind != 'system')
       FROM messages WHERE conversation_id = :conversationId`,
    );
    let written = 0;
    for (const m of messages) {
      const row = {
        conversationId,
        id: m.id,
        text: m.text,
        attachments: m.attachments !== undefined ? JSON.stringify(m.attachments) : null,
        mentions: m.mentions !== undefined ? JSON.stringify(m.mentions) : null,
        editedAt: m.editedAt ?? null,
        deletedAt: m.deletedAt ?? null,
        reactions: JSON.stringify(m.reactions),
      };
      if (exists.get(conversationId, m.id)) written += update.run(row).changes;
      else written += insert.run({ ...row, author: m.author, kind: m.kind, createdAt: m.createdAt, replyTo: m.replyTo ?? null }).changes;
    }
    return written;
  }

  private writeRead(conversationId: string, userId: string, messageId: string, at: number): void {
    this.sql(
      `INSERT INTO message_reads (conversation_id, user_id, message_id, at) VALUES (?, ?, ?, ?)
       ON CONFLICT (conversation_id, user_id) DO UPDATE SET message_id = excluded.message_id, at = excluded.at`,
    ).run(conversationId, userId, messageId, at);
  }

  async get(conversationId: string, messageId: string): Promise<IndexedMessage | null> {
    const row = this.sql(`SELECT ${COLUMNS} FROM messages WHERE conversation_id = ? AND id = ?`).get(conversationId, messageId) as MessageRow | undefined;
    return row ? toMessage(row) : null;
  }

  async page(conversationId: string, beforeSeq: number | null, limit: number): Promise<MessagePage> {
    const rows = this.sql(`SELECT ${COLUMNS} FROM messages WHERE conversation_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?`).all(
      conversationId,
      beforeSeq ?? Number.MAX_SAFE_INTEGER,
      limit + 1,
    ) as MessageRow[];
    const more = rows.length > limit;
    const messages = rows.slice(0, limit).map(toMessage);
    return { messages, more };
  }

  async last(conversationId: string): Promise<IndexedMessage | null> {
    const row = this.sql(`SELECT ${COLUMNS} FROM messages WHERE conversation_id = ? ORDER BY seq DESC LIMIT 1`).get(conversationId) as MessageRow | undefined;
    return row ? toMessage(row) : null;
  }

  async unread(conversationId: string, userId: string, ignoredAuthors: readonly string[] = []): Promise<number> {
    return this.sql(UNREAD_BY_TALLY)
      .pluck()
      .get({ c: conversationId, u: userId, ignored: JSON.stringify(ignoredAuthors) }) as number;
  }

  async latestUnread(conversationId: string, userId: string, ignoredAuthors: readonly string[] = []): Promise<IndexedMessage | null> {
    const row = this.sql(`SELECT ${COLUMNS} FROM messages WHERE ${UNREAD} ORDER BY seq DESC LIMIT 1`).get({
      c: conversationId,
      u: userId,
      ignored: JSON.stringify(ignoredAuthors),
    }) as MessageRow | undefined;
    return row ? toMessage(row) : null;
  }

  async search(request: SearchRequest): Promise<SearchHit[]> {
    try {
      this.indexPending();
    } catch (error) {
      // A disk that refuses writes does not stop searches: they answer from what is indexed, and
      // the waiting rows go in with a later write or search.
      if (!asStorageFailure(error)) throw error;
    }
    const hits = await searchWindows(request, async (ceiling, size) => this.window(request, ceiling, size));
    if (hits.length === 0) return [];
    // Snippets for the page only. FTS5 answers `rowid IN (...)` by walking the match's doclist and
    // testing each row: the BETWEEN bounds that walk to the page's rows (one window at most).
    const rowids = hits.map((h) => h.rowid);
    const rows = this.sql(
      `SELECT ${COLUMNS.split(', ').map((c) => `m.${c}`).join(', ')}, m.rowid AS rowid, snippet(messages_fts, 0, char(1), char(2), '…', 16) AS snippet
       FROM messages_fts JOIN messages m ON m.rowid = messages_fts.rowid
       WHERE messages_fts MATCH :match AND messages_fts.rowid BETWEEN :low AND :high AND messages_fts.rowid IN (SELECT value FROM json_each(:rows))`,
    ).all({ match: request.match, rows: JSON.stringify(rowids), low: Math.min(...rowids), high: Math.max(...rowids) }) as Array<MessageRow & { snippet: string; rowid: number }>;
    const byRow = new Map(rows.map((row) => [row.rowid, row]));
    return hits.flatMap((hit) => {
      const row = byRow.get(hit.rowid);
      return row ? [{ message: toMessage(row), snippet: row.snippet, position: hit.position }] : [];
    });
  }

  /**
   * One search window: the FTS5 doclist walked newest first (rowid order is
   * the order of acceptance), each row checked for membership and deletion,
   * BM25 for the rows kept only.
   */
  private window(request: SearchRequest, ceiling: number | null, size: number): RankedRow[] {
    return this.sql(
      `SELECT messages_fts.rowid AS rowid, bm25(messages_fts) AS rank
       FROM messages_fts JOIN messages m ON m.rowid = messages_fts.rowid
       WHERE messages_fts MATCH :match AND messages_fts.rowid < :ceiling
         AND m.deleted_at IS NULL
         AND m.conversation_id IN (SELECT conversation_id FROM members WHERE user_id = :user)
         AND (:conversation IS NULL OR m.conversation_id = :conversation)
       ORDER BY messages_fts.rowid DESC
       LIMIT :size`,
    ).all({ match: request.match, ceiling: ceiling ?? Number.MAX_SAFE_INTEGER, user: request.userId, conversation: request.conversationId ?? null, size }) as RankedRow[];
  }
}
