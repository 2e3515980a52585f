import * as Y from 'yjs';
import { z } from 'zod';
import { Attachment, Channels, DEFAULTS, QuietHours, isId, utf8Length } from '@parley/schema';

/** The single value a map entry holds, or `undefined` for deleted/other content. */
export function entryValue(item: Y.Item): unknown {
  const content = item.content;
  if (content instanceof Y.ContentAny) return content.arr.length === 1 ? content.arr[0] : undefined;
  if (content instanceof Y.ContentType) return content.type;
  return undefined;
}

export const isDeletedContent = (item: Y.Item): boolean => item.content instanceof Y.ContentDeleted;
export const isMapContent = (item: Y.Item): boolean => item.content instanceof Y.ContentType && item.content.type instanceof Y.Map;
export const isPlainValue = (item: Y.Item): boolean => item.content instanceof Y.ContentAny && item.content.arr.length === 1;

/** A time a client wrote about something that happened: from 2020 up to a few minutes ahead of this clock (see DEFAULTS). */
export const isTimestamp = (v: unknown, now: number = Date.now()): boolean =>
  typeof v === 'number' && Number.isFinite(v) && v >= DEFAULTS.clientTimestampMin && v <= now + DEFAULTS.clientClockSkewMaxMs;
/** A time that may lie far ahead by design (muted until): any a JS Date can hold. */
export const isFutureTimestamp = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= DEFAULTS.timestampMax;
export const isText = (v: unknown): boolean => typeof v === 'string' && utf8Length(v) <= DEFAULTS.messageTextMaxBytes;
export const isAttachments = (v: unknown): boolean => z.array(Attachment).max(DEFAULTS.attachmentsMaxPerMessage).safeParse(v).success;
export const isChannels = (v: unknown): boolean => Channels.safeParse(v).success;
export const isQuietHours = (v: unknown): boolean => QuietHours.safeParse(v).success;
export const isReadReceipt = (v: unknown): boolean =>
  typeof v === 'object' && v !== null && isId((v as { messageId?: unknown }).messageId) && isTimestamp((v as { at?: unknown }).at) && Object.keys(v).length === 2;
export const isKindKey = (k: string): boolean => k.length >= 1 && k.length <= 64;
