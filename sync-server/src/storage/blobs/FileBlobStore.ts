import { createReadStream, mkdirSync, rmSync } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { isBlobHash, type BlobStore } from './BlobStore';

/** Blobs as files: `<root>/<first two hex digits>/<hash>`, scratch files in `<root>/scratch` (emptied at start). */
export class FileBlobStore implements BlobStore {
  private readonly scratchDir: string;

  constructor(private readonly root: string) {
    this.scratchDir = join(root, 'scratch');
    // An upload cut off by a crash left its scratch file behind: nothing refers to it.
    rmSync(this.scratchDir, { recursive: true, force: true });
    mkdirSync(this.scratchDir, { recursive: true });
  }

  static inDataDir(dataDir: string): FileBlobStore {
    return new FileBlobStore(join(dataDir, 'attachments'));
  }

  scratchPath(): string {
    return join(this.scratchDir, randomUUID());
  }

  async adopt(hash: string, scratch: string): Promise<void> {
    const dir = join(this.root, this.checked(hash).slice(0, 2));
    mkdirSync(dir, { recursive: true });
    await rename(scratch, join(dir, hash));
  }

  read(hash: string, range?: { start: number; end: number }): Readable {
    return createReadStream(this.pathOf(hash), range);
  }

  async size(hash: string): Promise<number | null> {
    try {
      return (await stat(this.pathOf(hash))).size;
    } catch {
      return null;
    }
  }

  async remove(hash: string): Promise<void> {
    // Synchronous on purpose: the caller checks that no upload names the blob in the same stretch of code.
    rmSync(this.pathOf(hash), { force: true });
  }

  async discard(scratch: string): Promise<void> {
    await rm(scratch, { force: true });
  }

  private pathOf(hash: string): string {
    return join(this.root, this.checked(hash).slice(0, 2), hash);
  }

  private checked(hash: string): string {
    if (!isBlobHash(hash)) throw new Error(`not a blob hash: ${hash.slice(0, 80)}`);
    return hash;
  }
}
