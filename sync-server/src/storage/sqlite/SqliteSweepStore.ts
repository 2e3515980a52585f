import type { Database } from 'better-sqlite3';
import type { SweepStore } from '../Storage';
import { statementCache } from './statementCache';

/** The first name after every name starting with `prefix` ('inbox:' -> 'inbox;'). */
const endOf = (prefix: string) => prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);

/**
 * A document's change mark is the highest update seq stored for it (in its
 * log, or folded into its snapshot): seqs only grow, and compaction keeps
 * the highest, so "changed since" is one comparison, read from the indexes
 * without loading any document.
 */
export class SqliteSweepStore implements SweepStore {
  private readonly sql: ReturnType<typeof statementCache>;

  constructor(db: Database) {
    this.sql = statementCache(db);
  }

  async due(prefix: string, now: number, limit: number): Promise<Array<{ doc: string; mark: number }>> {
    if (prefix.length === 0) throw new Error('a sweep needs a document prefix');
    return this.sql(
      `WITH marks AS (
         SELECT doc, max(seq) AS mark FROM (
           SELECT doc, max(seq) AS seq FROM doc_updates WHERE doc >= :from AND doc < :to GROUP BY doc
           UNION ALL
           SELECT doc, last_seq AS seq FROM doc_snapshots WHERE doc >= :from AND doc < :to
         ) GROUP BY doc
       )
       SELECT m.doc, m.mark FROM marks m LEFT JOIN doc_sweeps s ON s.doc = m.doc
       WHERE s.doc IS NULL OR m.mark > s.mark OR s.due_at <= :now
       ORDER BY coalesce(s.swept_at, 0), m.doc LIMIT :limit`,
    ).all({ from: prefix, to: endOf(prefix), now, limit }) as Array<{ doc: string; mark: number }>;
  }

  async record(doc: string, mark: number, dueAt: number | null, now: number): Promise<void> {
    this.sql(
      'INSERT INTO doc_sweeps (doc, mark, due_at, swept_at) VALUES (?, ?, ?, ?) ON CONFLICT (doc) DO UPDATE SET mark = excluded.mark, due_at = excluded.due_at, swept_at = excluded.swept_at',
    ).run(doc, mark, dueAt, now);
  }
}
