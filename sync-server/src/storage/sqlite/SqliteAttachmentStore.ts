import type { Database } from 'better-sqlite3';
import type { AttachmentRecord, AttachmentStore } from '../Storage';
import { statementCache } from './statementCache';

interface AttachmentRow {
  id: string;
  conversation_id: string;
  url: string;
  uploader: string;
  blob: string;
  thumbnail: string | null;
  name: string;
  type: string;
  size: number;
  width: number | null;
  height: number | null;
  created_at: number;
}

const COLUMNS = 'id, conversation_id, url, uploader, blob, thumbnail, name, type, size, width, height, created_at';

const toRecord = (row: AttachmentRow): AttachmentRecord => ({
  id: row.id,
  conversationId: row.conversation_id,
  url: row.url,
  uploader: row.uploader,
  blob: row.blob,
  thumbnail: row.thumbnail,
  name: row.name,
  type: row.type,
  size: row.size,
  width: row.width,
  height: row.height,
  createdAt: row.created_at,
});

/** Uploads (migration 9); `attachment_refs` is kept by triggers on the message index. */
export class SqliteAttachmentStore implements AttachmentStore {
  private readonly sql: ReturnType<typeof statementCache>;

  constructor(private readonly db: Database) {
    this.sql = statementCache(db);
  }

  async insert(r: AttachmentRecord): Promise<void> {
    this.sql(`INSERT INTO attachments (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
      r.id, r.conversationId, r.url, r.uploader, r.blob, r.thumbnail, r.name, r.type, r.size, r.width, r.height, r.createdAt,
    );
  }

  async remove(id: string): Promise<void> {
    this.sql('DELETE FROM attachments WHERE id = ?').run(id);
  }

  async get(conversationId: string, id: string): Promise<AttachmentRecord | null> {
    const row = this.sql(`SELECT ${COLUMNS} FROM attachments WHERE id = ? AND conversation_id = ?`).get(id, conversationId) as AttachmentRow | undefined;
    return row ? toRecord(row) : null;
  }

  find(url: string): AttachmentRecord | null {
    const row = this.sql(`SELECT ${COLUMNS} FROM attachments WHERE url = ?`).get(url) as AttachmentRow | undefined;
    return row ? toRecord(row) : null;
  }

  blobInUse(hash: string, exceptId?: string): boolean {
    const row = this.sql('SELECT 1 FROM attachments WHERE (blob = @hash OR thumbnail = @hash) AND id IS NOT @exceptId LIMIT 1').get({ hash, exceptId: exceptId ?? null });
    return row !== undefined;
  }

  async unreferenced(conversationId: string, unreferencedBefore: number): Promise<AttachmentRecord[]> {
    const rows = this.sql(
      `SELECT ${COLUMNS} FROM attachments a
       WHERE conversation_id = ?
         AND NOT EXISTS (SELECT 1 FROM attachment_refs r WHERE r.attachment_id = a.id)
         AND (referenced_at IS NOT NULL OR created_at < ?)`,
    ).all(conversationId, unreferencedBefore) as AttachmentRow[];
    return rows.map(toRecord);
  }
}
