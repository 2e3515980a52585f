import type pg from 'pg';
import type { ReportRecord, ReportStore } from '../Storage';
import { changed } from './PgPool';

interface Row {
  id: number;
  conversation_id: string;
  message_id: string;
  reporter: string;
  reason: string;
  created_at: number;
  closed_at: number | null;
  closed_by: string | null;
}

const COLUMNS = 'id, conversation_id, message_id, reporter, reason, created_at, closed_at, closed_by';

const toRecord = (r: Row): ReportRecord => ({
  id: String(r.id),
  conversationId: r.conversation_id,
  messageId: r.message_id,
  reporter: r.reporter,
  reason: r.reason,
  createdAt: r.created_at,
  closedAt: r.closed_at,
  closedBy: r.closed_by,
});

/** A report's id as the BIGSERIAL it is, or null when the text is none (so `get('x')` finds nothing instead of failing). */
const reportId = (id: string): number | null => (/^[0-9]{1,15}$/.test(id) ? Number(id) : null);

/** Reports of messages (migration 10), as SqliteReportStore keeps them. */
export class PgReportStore implements ReportStore {
  constructor(private readonly pool: pg.Pool) {}

  async add(report: Omit<ReportRecord, 'id' | 'closedAt' | 'closedBy'>): Promise<ReportRecord | null> {
    const result = await this.pool.query<Row>(
      `INSERT INTO reports (conversation_id, message_id, reporter, reason, created_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (conversation_id, message_id, reporter) DO NOTHING RETURNING ${COLUMNS}`,
      [report.conversationId, report.messageId, report.reporter, report.reason, report.createdAt],
    );
    const row = result.rows[0];
    return row ? toRecord(row) : null;
  }

  async get(id: string): Promise<ReportRecord | null> {
    const key = reportId(id);
    if (key === null) return null;
    const row = (await this.pool.query<Row>(`SELECT ${COLUMNS} FROM reports WHERE id = $1`, [key])).rows[0];
    return row ? toRecord(row) : null;
  }

  async list(state: 'open' | 'closed' | 'all', limit: number): Promise<ReportRecord[]> {
    const query =
      state === 'open'
        ? `SELECT ${COLUMNS} FROM reports WHERE closed_at IS NULL ORDER BY created_at, id LIMIT $1`
        : state === 'closed'
          ? `SELECT ${COLUMNS} FROM reports WHERE closed_at IS NOT NULL ORDER BY closed_at DESC, id DESC LIMIT $1`
          : `SELECT ${COLUMNS} FROM reports ORDER BY created_at DESC, id DESC LIMIT $1`;
    return (await this.pool.query<Row>(query, [limit])).rows.map(toRecord);
  }

  async openCount(reporter: string): Promise<number> {
    return (await this.pool.query<{ n: number }>('SELECT count(*) AS n FROM reports WHERE reporter = $1 AND closed_at IS NULL', [reporter])).rows[0]!.n;
  }

  async close(id: string, by: string, at: number): Promise<boolean> {
    const key = reportId(id);
    if (key === null) return false;
    return changed(await this.pool.query('UPDATE reports SET closed_at = $1, closed_by = $2 WHERE id = $3 AND closed_at IS NULL', [at, by, key])) > 0;
  }
}
