import type { Readable } from 'node:stream';

/**
 * Content-addressed file bytes: a blob is named by the SHA-256 of what it
 * holds, so the same file uploaded twice is stored once. `FileBlobStore`
 * keeps them under DATA_DIR; an S3-compatible store (cluster mode) would
 * implement the same calls with PutObject, ranged GetObject and DeleteObject.
 */
export interface BlobStore {
  /** A fresh path to receive an upload into before its hash is known. */
  scratchPath(): string;
  /** Moves a finished scratch file into the store under its hash (an equal blob is simply replaced). */
  adopt(hash: string, scratch: string): Promise<void>;
  /** The bytes, or the inclusive range `start..end` of them. */
  read(hash: string, range?: { start: number; end: number }): Readable;
  size(hash: string): Promise<number | null>;
  remove(hash: string): Promise<void>;
  /** Drops a scratch file that was not adopted. */
  discard(scratch: string): Promise<void>;
}

export const isBlobHash = (hash: string): boolean => /^[0-9a-f]{64}$/.test(hash);
