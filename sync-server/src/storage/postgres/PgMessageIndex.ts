import type pg from 'pg';
import type { Attachment, MessageKind } from '@parley/schema';
import type { IndexChange, IndexableMessage, IndexedMessage, MessageIndex, MessagePage, SearchHit, SearchRequest } from '../Storage';
import { transaction, type Queryable } from './PgPool';
import type { PgGroupCommit } from './PgGroupCommit';
import { searchWindows, type RankedRow } from '../searchWindows';
import { prefixQuery, searchText } from './pgSearchText';
import { lit, row } from './pgLiteral';

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
const prefixed = (alias: string) => COLUMNS.split(', ').map((c) => `${alias}.${c}`).join(', ');

/**
 * Messages by others ($2) after the reader's receipt, not deleted, not system,
 * not by the ignored authors ($3); an unknown receipt counts everything (seq 0).
 */
const UNREAD = `conversation_id = $1 AND author <> $2 AND deleted_at IS NULL AND kind <> 'system'
  AND author <> ALL($3::text[])
  AND seq > coalesce((SELECT m.seq FROM message_reads r JOIN messages m ON m.conversation_id = r.conversation_id AND m.id = r.message_id
                      WHERE r.conversation_id = $1 AND r.user_id = $2), 0)`;

/**
 * The same count as UNREAD from the running tallies (migration 16): the
 * conversation's tally after the receipt, less each excluded author's (the
 * reader and the ignored ones, two index probes each), less the deleted
 * messages after the receipt by the others (a partial index of deleted rows).
 * O(log n) per author plus the deletions after the receipt, never the unread rows.
 * The receipt is a scalar subquery, not a join: a bound of each index range.
 */
const UNREAD_BY_TALLY = `WITH
  receipt AS (SELECT coalesce((SELECT m.seq FROM message_reads r JOIN messages m ON m.conversation_id = r.conversation_id AND m.id = r.message_id
                               WHERE r.conversation_id = $1 AND r.user_id = $2), 0) AS seq),
  excluded AS (SELECT DISTINCT a AS author FROM unnest(array_append($3::text[], $2::text)) AS a)
SELECT (
  coalesce((SELECT tally FROM messages WHERE conversation_id = $1 ORDER BY seq DESC LIMIT 1), 0)
  - coalesce((SELECT m.tally FROM messages m WHERE m.conversation_id = $1 AND m.seq = (SELECT seq FROM receipt)), 0)
  - coalesce((SELECT sum(
        coalesce((SELECT m.author_tally FROM messages m WHERE m.conversation_id = $1 AND m.author = e.author ORDER BY m.seq DESC LIMIT 1), 0)
      - coalesce((SELECT m.author_tally FROM messages m WHERE m.conversation_id = $1 AND m.author = e.author AND m.seq <= (SELECT seq FROM receipt)
                  ORDER BY m.seq DESC LIMIT 1), 0))
      FROM excluded e), 0)
  - (SELECT count(*) FROM messages m WHERE m.conversation_id = $1 AND m.deleted_at IS NOT NULL AND m.seq > (SELECT seq FROM receipt)
       AND m.kind <> 'system' AND m.author <> ALL(SELECT author FROM excluded))
)::bigint AS n`;

/**
 * Advisory lock space of a conversation's index: a new message takes the next
 * seq (max + 1), which two transactions must not compute at once.
 */
const SEQ_LOCK = 2;

/**
 * ts_headline's options, to cut snippets like FTS5's (the match between
 * \u0001 and \u0002): a text of at most SNIPPET_WORDS words whole, a longer
 * one about that many words around the best match. (ts_headline alone starts
 * at a word even in a short text, dropping what comes before it.)
 */
const SNIPPET_WORDS = 16;
const MARKS = `StartSel="${'\u0001'}", StopSel="${'\u0002'}"`;
const HEADLINE_PART = `${MARKS}, MaxWords=${SNIPPET_WORDS}, MinWords=6, ShortWord=0, MaxFragments=1, FragmentDelimiter="…"`;
const HEADLINE_WHOLE = `${MARKS}, HighlightAll=true`;
/**
 * PostgreSQL's parser reads `<...>` as an HTML tag, which ts_headline then
 * drops from the snippet; '<' and '>' travel as \u0003 and \u0004 instead
 * and come back after. (A text's own \u0003/\u0004 come back as '<'/'>':
 * harmless, the snippet is escaped for HTML anyway.)
 */
const HIDE_TAGS = (column: string) => `translate(${column}, '<>', E'\\x03\\x04')`;
const SHOW_TAGS = (expression: string) => `translate(${expression}, E'\\x03\\x04', '<>')`;

/**
 * The message index on PostgreSQL: one row per message, in the server's
 * order of acceptance (`seq`, per conversation), with a tsvector of its text
 * (see pgSearchText) under a GIN index. Search ranks with ts_rank (higher is
 * better; the position keeps it negated so that, as with FTS5's bm25, a
 * lower rank is a better hit) and cuts snippets with ts_headline.
 */
export class PgMessageIndex implements MessageIndex {
  constructor(
    private readonly pool: pg.Pool,
    private readonly commits: PgGroupCommit,
  ) {}

  async write(change: IndexChange, builtAt?: number): Promise<void> {
    await transaction(this.pool, async (client) => {
      await this.writeWith(client, change);
      if (builtAt !== undefined) await this.markBuiltWith(client, change.conversationId, builtAt);
    });
  }

  async writeArchived(change: IndexChange): Promise<void> {
    // Through the group commit: queued in the same stretch as a work mark, it commits with it.
    await this.commits.run({ sql: () => ({ text: this.statements(change).join(';\n') }) });
  }

  async existing(conversationId: string, ids: readonly string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const result = await this.pool.query<{ id: string }>('SELECT id FROM messages WHERE conversation_id = $1 AND id = ANY($2::text[])', [conversationId, ids]);
    return result.rows.map((r) => r.id);
  }

  /** Inside the caller's transaction: one round trip for the whole change. */
  async writeWith(client: Queryable, change: IndexChange): Promise<void> {
    const statements = this.statements(change);
    if (statements.length) await client.query(statements.join(';\n'));
  }

  /**
   * The change as SQL statements, for an append's group commit (see
   * PgGroupCommit). A new message takes the next seq at the end of its
   * conversation; a known one is updated in place and keeps its seq.
   */
  statements(change: IndexChange): string[] {
    const c = change.conversationId;
    const statements: string[] = [];
    if (change.messages.length > 0) statements.push(`SELECT pg_advisory_xact_lock(${SEQ_LOCK}, hashtext(${lit(c)}))`);
    for (const m of change.messages) {
      const text = m.text as string | null;
      const values = [
        m.id,
        m.author,
        m.kind,
        text,
        m.createdAt,
        m.replyTo ?? null,
        m.attachments !== undefined ? JSON.stringify(m.attachments) : null,
        m.mentions !== undefined ? JSON.stringify(m.mentions) : null,
        m.editedAt ?? null,
        m.deletedAt ?? null,
        JSON.stringify(m.reactions),
      ].map(lit);
      const counts = m.kind === 'system' ? 0 : 1;
      statements.push(
        // The running tallies (migration 16): the conversation's and the author's newest rows', plus this one if it counts.
        `INSERT INTO messages (${COLUMNS}, search, tally, author_tally)
         SELECT ${lit(c)}, coalesce(max(seq), 0) + 1, ${values.join(', ')}, to_tsvector('simple', ${lit(searchText(text ?? ''))}),
                coalesce((SELECT tally FROM messages WHERE conversation_id = ${lit(c)} ORDER BY seq DESC LIMIT 1), 0) + ${counts},
                coalesce((SELECT author_tally FROM messages WHERE conversation_id = ${lit(c)} AND author = ${lit(m.author)} ORDER BY seq DESC LIMIT 1), 0)
                  + ${counts}
         FROM messages WHERE conversation_id = ${lit(c)}
         ON CONFLICT (conversation_id, id) DO UPDATE SET
           text = excluded.text, attachments = excluded.attachments, mentions = excluded.mentions, edited_at = excluded.edited_at,
           deleted_at = excluded.deleted_at, reactions = excluded.reactions, search = excluded.search
         WHERE (messages.text, messages.attachments, messages.mentions, messages.edited_at, messages.deleted_at, messages.reactions)
           IS DISTINCT FROM (excluded.text, excluded.attachments, excluded.mentions, excluded.edited_at, excluded.deleted_at, excluded.reactions)`,
      );
    }
    for (const read of change.reads) {
      statements.push(
        `INSERT INTO message_reads (conversation_id, user_id, message_id, at) VALUES ${row(c, read.userId, read.messageId, read.at)}
         ON CONFLICT (conversation_id, user_id) DO UPDATE SET message_id = excluded.message_id, at = excluded.at`,
      );
    }
    return statements;
  }

  async isBuilt(conversationId: string): Promise<boolean> {
    return (await this.pool.query('SELECT 1 FROM message_index_state WHERE conversation_id = $1', [conversationId])).rows.length > 0;
  }

  async markBuilt(conversationId: string, at: number): Promise<void> {
    await this.markBuiltWith(this.pool, conversationId, at);
  }

  private async markBuiltWith(db: Queryable, conversationId: string, at: number): Promise<void> {
    await db.query('INSERT INTO message_index_state (conversation_id, built_at) VALUES ($1, $2) ON CONFLICT DO NOTHING', [conversationId, at]);
  }

  async unbuilt(): Promise<string[]> {
    const result = await this.pool.query<{ id: string }>(
      'SELECT id FROM conversations WHERE id NOT IN (SELECT conversation_id FROM message_index_state) ORDER BY created_at, id',
    );
    return result.rows.map((r) => r.id);
  }

  async get(conversationId: string, messageId: string): Promise<IndexedMessage | null> {
    const row = (await this.pool.query<MessageRow>(`SELECT ${COLUMNS} FROM messages WHERE conversation_id = $1 AND id = $2`, [conversationId, messageId])).rows[0];
    return row ? toMessage(row) : null;
  }

  async page(conversationId: string, beforeSeq: number | null, limit: number): Promise<MessagePage> {
    const rows = (
      await this.pool.query<MessageRow>(`SELECT ${COLUMNS} FROM messages WHERE conversation_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3`, [
        conversationId,
        beforeSeq ?? Number.MAX_SAFE_INTEGER,
        limit + 1,
      ])
    ).rows;
    return { messages: rows.slice(0, limit).map(toMessage), more: rows.length > limit };
  }

  async last(conversationId: string): Promise<IndexedMessage | null> {
    const row = (await this.pool.query<MessageRow>(`SELECT ${COLUMNS} FROM messages WHERE conversation_id = $1 ORDER BY seq DESC LIMIT 1`, [conversationId])).rows[0];
    return row ? toMessage(row) : null;
  }

  async unread(conversationId: string, userId: string, ignoredAuthors: readonly string[] = []): Promise<number> {
    const result = await this.pool.query<{ n: number }>(UNREAD_BY_TALLY, [conversationId, userId, ignoredAuthors]);
    return result.rows[0]!.n;
  }

  async latestUnread(conversationId: string, userId: string, ignoredAuthors: readonly string[] = []): Promise<IndexedMessage | null> {
    const result = await this.pool.query<MessageRow>(`SELECT ${COLUMNS} FROM messages WHERE ${UNREAD} ORDER BY seq DESC LIMIT 1`, [
      conversationId,
      userId,
      ignoredAuthors,
    ]);
    const row = result.rows[0];
    return row ? toMessage(row) : null;
  }

  async search(request: SearchRequest): Promise<SearchHit[]> {
    const query = prefixQuery(request.match);
    if (query === null) return [];
    const hits = await searchWindows(request, (ceiling, size) => this.window(query, request, ceiling, size));
    if (hits.length === 0) return [];
    // Only the page's rows pay for a headline.
    const result = await this.pool.query<MessageRow & { row_id: string; snippet: string }>(
      `WITH q AS (SELECT to_tsquery('simple', $1) AS query)
       SELECT ${prefixed('m')}, m.row_id,
              ${SHOW_TAGS(`ts_headline('simple', ${HIDE_TAGS('m.text')}, q.query,
                CASE WHEN array_length(regexp_split_to_array(btrim(m.text), '\\s+'), 1) <= ${SNIPPET_WORDS} THEN $4 ELSE $3 END)`)} AS snippet
       FROM messages m, q WHERE m.row_id = ANY($2::bigint[])`,
      [query, hits.map((h) => h.rowid), HEADLINE_PART, HEADLINE_WHOLE],
    );
    const byRow = new Map(result.rows.map((row) => [Number(row.row_id), row]));
    return hits.flatMap((hit) => {
      const row = byRow.get(hit.rowid);
      return row ? [{ message: toMessage(row), snippet: row.snippet, position: hit.position }] : [];
    });
  }

  /** One search window (searchWindows.ts): the newest matches below the ceiling, ranked; the GIN index finds them. */
  private async window(query: string, request: SearchRequest, ceiling: number | null, size: number): Promise<RankedRow[]> {
    const result = await this.pool.query<{ row_id: string; rank: number }>(
      `WITH q AS (SELECT to_tsquery('simple', $1) AS query)
       SELECT m.row_id, (-ts_rank(m.search, q.query))::real AS rank
       FROM messages m, q
       WHERE m.search @@ q.query
         AND ($4::bigint IS NULL OR m.row_id < $4::bigint)
         AND m.deleted_at IS NULL
         AND m.conversation_id IN (SELECT conversation_id FROM members WHERE user_id = $2)
         AND ($3::text IS NULL OR m.conversation_id = $3)
       ORDER BY m.row_id DESC
       LIMIT $5`,
      [query, request.userId, request.conversationId ?? null, ceiling, size],
    );
    return result.rows.map((row) => ({ rowid: Number(row.row_id), rank: row.rank }));
  }
}
