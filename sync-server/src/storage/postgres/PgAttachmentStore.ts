import type pg from 'pg';
import type { AttachmentRecord, AttachmentStore } from '../Storage';

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
const prefixed = (alias: string) => COLUMNS.split(', ').map((c) => `${alias}.${c}`).join(', ');

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

const blobsOf = (record: AttachmentRecord): string[] => (record.thumbnail ? [record.blob, record.thumbnail] : [record.blob]);

/** How long a lost LISTEN connection waits before it connects again (and reloads the mirror). */
const RELISTEN_MS = 1_000;

/**
 * Uploads on PostgreSQL (migration 9); `attachment_refs` is kept by a
 * trigger on the message index (see pgMigrations).
 *
 * `find` and `blobInUse` must answer synchronously (see AttachmentStore), and
 * a network round trip cannot. So every node holds a mirror of the table's
 * rows in memory: loaded at open, changed by this node's own writes before
 * they are sent (an insert counts as "in use" while in flight, so a release
 * never unlinks a blob an upload is adopting), and by the other nodes' writes
 * through LISTEN/NOTIFY (one channel per schema; a NOTIFY is sent in the
 * writing statement, so it is delivered exactly when the row commits). A lost
 * LISTEN connection reconnects and reloads the whole mirror. The cost is
 * memory: about half a kilobyte per upload on every node.
 */
export class PgAttachmentStore implements AttachmentStore {
  private readonly byId = new Map<string, AttachmentRecord>();
  private readonly byUrl = new Map<string, AttachmentRecord>();
  /** Blob hash (file or thumbnail) -> the ids of the uploads naming it. */
  private readonly byBlob = new Map<string, Set<string>>();
  private listener: pg.PoolClient | null = null;
  private closed = false;
  private retry: NodeJS.Timeout | null = null;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly channel: string,
  ) {}

  /** Loads the mirror and starts listening for other nodes' changes. */
  static async open(pool: pg.Pool): Promise<PgAttachmentStore> {
    const schema = (await pool.query<{ schema: string }>('SELECT current_schema() AS schema')).rows[0]!.schema;
    const store = new PgAttachmentStore(pool, `parley_attachments_${schema}`);
    await store.listen();
    return store;
  }

  async insert(record: AttachmentRecord): Promise<void> {
    // In the mirror while in flight, unless it clashes with a known upload (then the insert will fail).
    const early = !this.byId.has(record.id) && !this.byUrl.has(record.url);
    if (early) this.remember(record);
    try {
      await this.pool.query(
        `WITH added AS (
           INSERT INTO attachments (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id
         )
         SELECT pg_notify($13, '+' || id) FROM added`,
        [record.id, record.conversationId, record.url, record.uploader, record.blob, record.thumbnail, record.name, record.type, record.size, record.width, record.height, record.createdAt, this.channel],
      );
    } catch (error) {
      if (early) this.forget(record.id);
      throw error;
    }
    if (!early) this.remember(record);
  }

  async remove(id: string): Promise<void> {
    await this.pool.query(
      `WITH gone AS (DELETE FROM attachments WHERE id = $1 RETURNING id) SELECT pg_notify($2, '-' || id) FROM gone`,
      [id, this.channel],
    );
    this.forget(id);
  }

  async get(conversationId: string, id: string): Promise<AttachmentRecord | null> {
    const row = (await this.pool.query<AttachmentRow>(`SELECT ${COLUMNS} FROM attachments WHERE id = $1 AND conversation_id = $2`, [id, conversationId])).rows[0];
    return row ? toRecord(row) : null;
  }

  find(url: string): AttachmentRecord | null {
    return this.byUrl.get(url) ?? null;
  }

  blobInUse(hash: string, exceptId?: string): boolean {
    const ids = this.byBlob.get(hash);
    if (!ids) return false;
    return ids.size > (exceptId !== undefined && ids.has(exceptId) ? 1 : 0);
  }

  async unreferenced(conversationId: string, unreferencedBefore: number): Promise<AttachmentRecord[]> {
    const result = await this.pool.query<AttachmentRow>(
      `SELECT ${prefixed('a')} FROM attachments a
       WHERE a.conversation_id = $1
         AND NOT EXISTS (SELECT 1 FROM attachment_refs r WHERE r.attachment_id = a.id)
         AND (a.referenced_at IS NOT NULL OR a.created_at < $2)`,
      [conversationId, unreferencedBefore],
    );
    return result.rows.map(toRecord);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    const listener = this.listener;
    this.listener = null;
    if (listener) {
      await listener.query(`UNLISTEN ${this.channel}`).catch(() => undefined);
      listener.release();
    }
  }

  private remember(record: AttachmentRecord): void {
    this.forget(record.id);
    this.byId.set(record.id, record);
    this.byUrl.set(record.url, record);
    for (const hash of blobsOf(record)) {
      let ids = this.byBlob.get(hash);
      if (!ids) this.byBlob.set(hash, (ids = new Set()));
      ids.add(record.id);
    }
  }

  private forget(id: string): void {
    const record = this.byId.get(id);
    if (!record) return;
    this.byId.delete(id);
    this.byUrl.delete(record.url);
    for (const hash of blobsOf(record)) {
      const ids = this.byBlob.get(hash);
      ids?.delete(id);
      if (ids?.size === 0) this.byBlob.delete(hash);
    }
  }

  /** LISTEN first, then load: a change committed in between is both loaded and heard (harmless twice). */
  private async listen(): Promise<void> {
    const client = await this.pool.connect();
    try {
      client.on('notification', (message) => {
        if (message.channel === this.channel && message.payload) void this.heard(message.payload);
      });
      client.on('error', () => this.lost(client));
      await client.query(`LISTEN ${this.channel}`);
      const rows = (await this.pool.query<AttachmentRow>(`SELECT ${COLUMNS} FROM attachments`)).rows;
      this.byId.clear();
      this.byUrl.clear();
      this.byBlob.clear();
      for (const row of rows) this.remember(toRecord(row));
    } catch (error) {
      client.release(error instanceof Error ? error : new Error(String(error)));
      throw error;
    }
    this.listener = client;
  }

  private async heard(payload: string): Promise<void> {
    const id = payload.slice(1);
    if (payload.startsWith('-')) return this.forget(id);
    if (this.byId.has(id)) return; // this node's own insert, or one loaded already
    const row = (await this.pool.query<AttachmentRow>(`SELECT ${COLUMNS} FROM attachments WHERE id = $1`, [id]).catch(() => null))?.rows[0];
    if (row) this.remember(toRecord(row));
  }

  private lost(client: pg.PoolClient): void {
    if (this.listener !== client) return;
    this.listener = null;
    client.release(new Error('the LISTEN connection was lost'));
    this.scheduleListen();
  }

  private scheduleListen(): void {
    if (this.closed) return;
    this.retry = setTimeout(() => {
      this.retry = null;
      if (this.closed) return;
      this.listen().catch(() => this.scheduleListen());
    }, RELISTEN_MS);
    this.retry.unref();
  }
}
