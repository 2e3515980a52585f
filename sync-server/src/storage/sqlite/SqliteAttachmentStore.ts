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

  blobInUse(hash: string): boolean {
    return this.sql('SELECT 1 FROM attachments WHERE blob = ?1 UNION ALL SELECT 1 FROM attachments WHERE thumbnail = ?1 LIMIT 1').get(hash) !== undefined;
  }

  async release(conversationId: string, unreferencedBefore: number): Promise<string[]> {
    return this.db.transaction(() => {
      const rows = this.sql(
        `SELECT id, blob, thumbnail FROM attachments a
         WHERE conversation_id = ?
           AND NOT EXISTS (SELECT 1 FROM attachment_refs r WHERE r.attachment_id = a.id)
           AND (referenced_at IS NOT NULL OR created_at < ?)`,
      ).all(conversationId, unreferencedBefore) as Array<{ id: string; blob: string; thumbnail: string | null }>;
      const remove = this.sql('DELETE FROM attachments WHERE id = ?');
      for (const row of rows) remove.run(row.id);
      const hashes = new Set<string>();
      for (const row of rows) {
        hashes.add(row.blob);
        if (row.thumbnail) hashes.add(row.thumbnail);
      }
      return [...hashes];
    })();
  }
}
