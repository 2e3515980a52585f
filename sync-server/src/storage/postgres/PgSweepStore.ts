import type pg from 'pg';
import type { SweepStore } from '../Storage';

/** The first name after every name starting with `prefix` ('inbox:' -> 'inbox;'); the columns compare bytes (COLLATE "C"). */
const endOf = (prefix: string) => prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);

/** As SqliteSweepStore: a document's change mark is the highest update seq stored for it. */
export class PgSweepStore implements SweepStore {
  constructor(private readonly pool: pg.Pool) {}

  async due(prefix: string, now: number, limit: number): Promise<Array<{ doc: string; mark: number }>> {
    if (prefix.length === 0) throw new Error('a sweep needs a document prefix');
    const result = await this.pool.query<{ doc: string; mark: number }>(
      `WITH marks AS (
         SELECT doc, max(seq) AS mark FROM (
           SELECT doc, max(seq) AS seq FROM doc_updates WHERE doc >= $1 AND doc < $2 GROUP BY doc
           UNION ALL
           SELECT doc, last_seq AS seq FROM doc_snapshots WHERE doc >= $1 AND doc < $2
         ) parts GROUP BY doc
       )
       SELECT m.doc, m.mark FROM marks m LEFT JOIN doc_sweeps s ON s.doc = m.doc
       WHERE s.doc IS NULL OR m.mark > s.mark OR s.due_at <= $3
       ORDER BY coalesce(s.swept_at, 0), m.doc LIMIT $4`,
      [prefix, endOf(prefix), now, limit],
    );
    return result.rows;
  }

  async record(doc: string, mark: number, dueAt: number | null, now: number): Promise<void> {
    await this.pool.query(
      'INSERT INTO doc_sweeps (doc, mark, due_at, swept_at) VALUES ($1, $2, $3, $4) ON CONFLICT (doc) DO UPDATE SET mark = excluded.mark, due_at = excluded.due_at, swept_at = excluded.swept_at',
      [doc, mark, dueAt, now],
    );
  }
}
