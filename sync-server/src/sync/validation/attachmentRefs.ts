import { DEFAULTS, parseAttachmentUrl } from '@parley/schema';
import { isAttachments } from './values';

/** What the server stored for an upload, as far as a message's `attachments` entry must match it. */
export interface StoredUpload {
  conversationId: string;
  name: string;
  type: string;
  size: number;
  width: number | null;
  height: number | null;
}

/** The upload at a url, or null: answered synchronously (see AttachmentStore.find). */
export type UploadLookup = (url: string) => StoredUpload | null;

/** No upload is known: every non-empty `attachments` is refused (validation without a store, e.g. in unit tests). */
export const NO_UPLOADS: UploadLookup = () => null;

/**
 * Why a message's `attachments` is not acceptable, or null: each entry must be
 * an upload of this conversation exactly as the upload call answered it (url,
 * name, type, size, and width and height for images). A client cannot point a
 * message at another conversation's file, at a URL of its own, or claim a
 * different type or size than was stored. The one rule for socket updates and
 * the REST send.
 */
export function attachmentProblem(value: unknown, conversationId: string, lookup: UploadLookup): string | null {
  if (!isAttachments(value)) return `attachments are malformed (at most ${DEFAULTS.attachmentsMaxPerMessage} of {url, name, type, size, width?, height?})`;
  for (const entry of value as Array<{ url: string; name: string; type: string; size: number; width?: number; height?: number }>) {
    const parsed = parseAttachmentUrl(entry.url);
    if (!parsed || parsed.conversationId !== conversationId) return `${entry.url.slice(0, 100)} is not an upload of this conversation`;
    const stored = lookup(entry.url);
    if (!stored || stored.conversationId !== conversationId) return `${entry.url} is not an upload of this conversation`;
    const same =
      entry.name === stored.name &&
      entry.type === stored.type &&
      entry.size === stored.size &&
      (entry.width ?? null) === stored.width &&
      (entry.height ?? null) === stored.height;
    if (!same) return `${entry.url} differs from what the upload answered`;
  }
  return null;
}
