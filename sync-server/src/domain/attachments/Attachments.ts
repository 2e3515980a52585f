import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DEFAULTS, HttpErrorCode, attachmentUrl, thumbnailUrl, type Attachment, type Identity } from '@parley/schema';
import { ApiError } from '../../http/ApiError';
import type { AttachmentRecord, Storage } from '../../storage/Storage';
import type { BlobStore } from '../../storage/blobs/BlobStore';
import { sanitizeFileName } from './sanitizeFileName';
import { sniffType } from './sniffType';
import { InvalidImageError, imageFacts, isDecodedImage, stripMetadata, writeThumbnail } from './imageFile';
import type { SignedLinks } from './signedLink';

/** A file part as it arrives: its claimed name (its claimed type is never read) and its bytes. */
export interface IncomingFile {
  name: string | undefined;
  stream: Readable;
  /** True when the stream was cut at the size limit. */
  truncated(): boolean;
}

/** What a GET of an attachment sends. */
export interface ServedFile {
  hash: string;
  size: number;
  type: string;
  name: string;
}

export const toAttachment = (r: AttachmentRecord): Attachment => ({
  url: r.url,
  name: r.name,
  type: r.type,
  size: r.size,
  ...(r.width !== null && { width: r.width }),
  ...(r.height !== null && { height: r.height }),
});

const tooLarge = (maxBytes: number) => new ApiError(413, HttpErrorCode.tooLarge, `a file is at most ${maxBytes} bytes`);

/**
 * Uploads (CONTRACT section 4): received into a scratch file while hashed,
 * typed from their bytes, images re-encoded without metadata and given a
 * thumbnail, then recorded and moved into the content-addressed BlobStore.
 * The row is written before the blob is moved in, and a blob is removed only
 * in the same synchronous stretch as the check that no row names it: an
 * upload racing a release never loses its bytes.
 */
export class Attachments {
  constructor(
    private readonly deps: { storage: Storage; blobs: BlobStore; links: SignedLinks },
    private readonly maxBytes: number = DEFAULTS.uploadMaxBytes,
  ) {}

  get uploadMaxBytes(): number {
    return this.maxBytes;
  }

  async requireMember(userId: string, conversationId: string): Promise<void> {
    const { conversations } = this.deps.storage;
    if (!(await conversations.get(conversationId))) throw ApiError.notFound(`no conversation ${conversationId}`);
    if (!(await conversations.role(conversationId, userId))) throw ApiError.forbidden('you are not a member of this conversation');
  }

  async upload(caller: Identity, conversationId: string, file: IncomingFile): Promise<Attachment> {
    await this.requireMember(caller.userId, conversationId);
    const { blobs, storage } = this.deps;
    const scratch: string[] = [];
    const fresh = () => {
      const path = blobs.scratchPath();
      scratch.push(path);
      return path;
    };
    try {
      const received = fresh();
      const { size: receivedSize } = await receive(file.stream, received);
      if (file.truncated() || receivedSize > this.maxBytes) throw tooLarge(this.maxBytes);
      if (receivedSize === 0) throw new ApiError(400, HttpErrorCode.emptyFile, 'the file is empty');
      const type = await sniffType(received);
      const stored = isDecodedImage(type) ? await this.cleanImage(received, type, fresh) : { path: received, thumbnail: null, width: null, height: null };
      const { hash, size } = await hashFile(stored.path);
      const thumbnail = stored.thumbnail ? { path: stored.thumbnail, hash: (await hashFile(stored.thumbnail)).hash } : null;
      const id = randomBytes(16).toString('base64url');
      const record: AttachmentRecord = {
        id,
        conversationId,
        url: attachmentUrl(conversationId, id),
        uploader: caller.userId,
        blob: hash,
        thumbnail: thumbnail?.hash ?? null,
        name: sanitizeFileName(file.name),
        type,
        size,
        width: stored.width,
        height: stored.height,
        createdAt: Date.now(),
      };
      await storage.attachments.insert(record);
      try {
        await blobs.adopt(hash, stored.path);
        if (thumbnail) await blobs.adopt(thumbnail.hash, thumbnail.path);
      } catch (error) {
        await storage.attachments.remove(id);
        throw error;
      }
      return toAttachment(record);
    } catch (error) {
      if (error instanceof InvalidImageError) throw new ApiError(400, HttpErrorCode.invalidImage, `the file looks like an image but does not decode: ${error.message.slice(0, 200)}`);
      throw error;
    } finally {
      await Promise.all(scratch.map((path) => blobs.discard(path)));
    }
  }

  /** Re-encoded without metadata (EXIF GPS included), its size as shown, and a thumbnail. */
  private async cleanImage(path: string, type: string, fresh: () => string) {
    const clean = fresh();
    const stripped = await stripMetadata(path, type, clean);
    const stored = stripped ? clean : path;
    const { width, height } = await imageFacts(stored, type);
    const thumbnail = fresh();
    await writeThumbnail(stored, thumbnail).catch((error: unknown) => {
      throw new InvalidImageError(error instanceof Error ? error.message : String(error));
    });
    return { path: stored, thumbnail, width, height };
  }

  /** The file (or its thumbnail) for a member of its conversation. */
  async open(userId: string, conversationId: string, attachmentId: string, variant: 'original' | 'thumbnail'): Promise<ServedFile> {
    await this.requireMember(userId, conversationId);
    const record = await this.deps.storage.attachments.get(conversationId, attachmentId);
    const hash = variant === 'thumbnail' ? record?.thumbnail : record?.blob;
    const size = hash ? await this.deps.blobs.size(hash) : null;
    if (!record || !hash || size === null) throw ApiError.notFound(`no ${variant === 'thumbnail' ? 'thumbnail' : 'attachment'} ${attachmentId} in this conversation`);
    if (variant === 'thumbnail') return { hash, size, type: 'image/webp', name: `${record.name.replace(/\.[^.]*$/, '')}-thumbnail.webp` };
    return { hash, size, type: record.type, name: record.name };
  }

  read(hash: string, range?: { start: number; end: number }): Readable {
    return this.deps.blobs.read(hash, range);
  }

  /** Signed links to the file and its thumbnail (see SignedLinks), for `<img>` tags. */
  async links(caller: Identity, conversationId: string, attachmentId: string): Promise<{ url: string; thumbnailUrl: string | null; expiresAt: number }> {
    await this.requireMember(caller.userId, conversationId);
    const record = await this.deps.storage.attachments.get(conversationId, attachmentId);
    if (!record) throw ApiError.notFound(`no attachment ${attachmentId} in this conversation`);
    const expiresAt = Date.now() + DEFAULTS.attachmentLinkTtlMs;
    const { links } = this.deps;
    return {
      url: links.sign(record.url, caller.userId, expiresAt),
      thumbnailUrl: record.thumbnail ? links.sign(thumbnailUrl(record.url), caller.userId, expiresAt) : null,
      expiresAt,
    };
  }

  /** The user a signed link was made for, or null (see SignedLinks). */
  linkUser(path: string, query: { u?: string; exp?: string; sig?: string }): string | null {
    return this.deps.links.verify(path, query);
  }

  /**
   * Removes the conversation's uploads no message refers to any more, and
   * their blobs unless another upload names them. Blobs go first, then the
   * row: a run cut off in between is redone from the row, never leaving an
   * orphan blob; and each check-and-unlink is one synchronous stretch.
   */
  async release(conversationId: string): Promise<number> {
    const { storage, blobs } = this.deps;
    const gone = await storage.attachments.unreferenced(conversationId, Date.now() - DEFAULTS.attachmentUnreferencedKeepMs);
    let removed = 0;
    for (const record of gone) {
      for (const hash of [record.blob, record.thumbnail]) {
        if (!hash || storage.attachments.blobInUse(hash, record.id)) continue;
        await blobs.remove(hash);
        removed++;
      }
      await storage.attachments.remove(record.id);
    }
    return removed;
  }
}

async function receive(stream: Readable, to: string): Promise<{ size: number }> {
  let size = 0;
  const count = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.length;
      done(null, chunk);
    },
  });
  await pipeline(stream, count, createWriteStream(to));
  return { size };
}

async function hashFile(path: string): Promise<{ hash: string; size: number }> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return { hash: hash.digest('hex'), size: (await stat(path)).size };
}
