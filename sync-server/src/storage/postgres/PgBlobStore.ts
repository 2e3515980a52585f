import { readFile, rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type pg from 'pg';
import { isBlobHash, type BlobStore } from '../blobs/BlobStore';
import type { FileBlobStore } from '../blobs/FileBlobStore';

/** Bytes read per query when a blob is streamed: bounded memory per download, whatever its size. */
const CHUNK_BYTES = 1024 * 1024;

/**
 * Attachment bytes in PostgreSQL (`attachment_blobs`, PostgreSQL migration
 * 15), for several servers on one store (issue 15): a file uploaded through
 * one server is served by every other, which a directory per server cannot
 * do. Uploads are still received into a local scratch file (the sniffing and
 * the image re-encoding read files), then adopted into the table.
 */
export class PgBlobStore implements BlobStore {
  constructor(
    private readonly pool: pg.Pool,
    /** Only its scratch files are used: where uploads arrive before their hash is known. */
    private readonly scratch: FileBlobStore,
  ) {}

  scratchPath(): string {
    return this.scratch.scratchPath();
  }

  async adopt(hash: string, scratch: string): Promise<void> {
    const data = await readFile(scratch);
    // Content-addressed: an equal blob already stored is the same bytes.
    await this.pool.query('INSERT INTO attachment_blobs (hash, data) VALUES ($1, $2) ON CONFLICT (hash) DO NOTHING', [checked(hash), data]);
    await rm(scratch, { force: true });
  }

  read(hash: string, range?: { start: number; end: number }): Readable {
    const { pool } = this;
    checked(hash);
    async function* chunks(): AsyncGenerator<Buffer> {
      let from = range?.start ?? 0;
      const last = range?.end ?? Number.POSITIVE_INFINITY;
      while (from <= last) {
        const length = Math.min(CHUNK_BYTES, last - from + 1);
        // substring counts from 1.
        const { rows } = await pool.query<{ part: Buffer | null }>('SELECT substring(data FROM $2::int FOR $3::int) AS part FROM attachment_blobs WHERE hash = $1', [hash, from + 1, length]);
        const part = rows[0]?.part;
        if (!part) {
          if (rows.length === 0) throw new Error(`no blob ${hash}`);
          return;
        }
        if (part.length > 0) yield part;
        if (part.length < length) return;
        from += part.length;
      }
    }
    return Readable.from(chunks());
  }

  async size(hash: string): Promise<number | null> {
    const { rows } = await this.pool.query<{ size: number }>('SELECT octet_length(data) AS size FROM attachment_blobs WHERE hash = $1', [checked(hash)]);
    return rows[0]?.size ?? null;
  }

  async remove(hash: string): Promise<void> {
    await this.pool.query('DELETE FROM attachment_blobs WHERE hash = $1', [checked(hash)]);
  }

  discard(scratch: string): Promise<void> {
    return this.scratch.discard(scratch);
  }
}

function checked(hash: string): string {
  if (!isBlobHash(hash)) throw new Error(`not a blob hash: ${hash.slice(0, 80)}`);
  return hash;
}
