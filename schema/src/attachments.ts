import { isId } from './ids';
import { Attachment } from './conversation';

/** The upload call's answer: exactly what a message's `attachments` entry carries. */
export const AttachmentAnswer = Attachment;

/**
 * Where an upload is served: the one shape of an attachment `url`. A message
 * may only carry urls of its own conversation's uploads, so the server reads
 * both ids back from it (`parseAttachmentUrl`).
 */
export const attachmentUrl = (conversationId: string, attachmentId: string): string =>
  `/api/conversations/${encodeURIComponent(conversationId)}/attachments/${attachmentId}`;

/** The image's preview (a small WebP), beside the original. */
export const thumbnailUrl = (url: string): string => `${url}/thumbnail`;

/** Upload ids: 128 random bits, base64url (22 characters). */
export const ATTACHMENT_ID_PATTERN = /^[A-Za-z0-9_-]{22}$/;

export function parseAttachmentUrl(url: string): { conversationId: string; attachmentId: string } | null {
  const match = /^\/api\/conversations\/([^/?#]+)\/attachments\/([^/?#]+)$/.exec(url);
  if (!match) return null;
  let conversationId: string;
  try {
    conversationId = decodeURIComponent(match[1]!);
  } catch {
    return null;
  }
  const attachmentId = match[2]!;
  if (!isId(conversationId) || !ATTACHMENT_ID_PATTERN.test(attachmentId)) return null;
  // Only the canonical spelling, so one upload has one url.
  if (attachmentUrl(conversationId, attachmentId) !== url) return null;
  return { conversationId, attachmentId };
}
