import type { Database } from 'better-sqlite3';
import type { ReportRecord, ReportStore } from '../Storage';
import { statementCache } from './statementCache';

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

export class SqliteReportStore implements ReportStore {
  private readonly sql: ReturnType<typeof statementCache>;

  constructor(db: Database) {
    this.sql = statementCache(db);
  }

  async add(report: Omit<ReportRecord, 'id' | 'closedAt' | 'closedBy'>): Promise<ReportRecord | null> {
    const row = this.sql(
      `INSERT INTO reports (conversation_id, message_id, reporter, reason, created_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (conversation_id, message_id, reporter) DO NOTHING RETURNING ${COLUMNS}`,
    ).get(report.conversationId, report.messageId, report.reporter, report.reason, report.createdAt) as Row | undefined;
    return row ? toRecord(row) : null;
  }

  async get(id: string): Promise<ReportRecord | null> {
    const row = this.sql(`SELECT ${COLUMNS} FROM reports WHERE id = ?`).get(Number(id)) as Row | undefined;
    return row ? toRecord(row) : null;
  }

  async list(state: 'open' | 'closed' | 'all', limit: number): Promise<ReportRecord[]> {
    const query =
      state === 'open'
        ? `SELECT ${COLUMNS} FROM reports WHERE closed_at IS NULL ORDER BY created_at, id LIMIT ?`
        : state === 'closed'
          ? `SELECT ${COLUMNS} FROM reports WHERE closed_at IS NOT NULL ORDER BY closed_at DESC, id DESC LIMIT ?`
          : `SELECT ${COLUMNS} FROM reports ORDER BY created_at DESC, id DESC LIMIT ?`;
    return (this.sql(query).all(limit) as Row[]).map(toRecord);
  }

  async openCount(reporter: string): Promise<number> {
    return this.sql('SELECT count(*) FROM reports WHERE reporter = ? AND closed_at IS NULL').pluck().get(reporter) as number;
  }

  async close(id: string, by: string, at: number): Promise<boolean> {
    return this.sql('UPDATE reports SET closed_at = ?, closed_by = ? WHERE id = ? AND closed_at IS NULL').run(at, by, Number(id)).changes > 0;
  }
}
