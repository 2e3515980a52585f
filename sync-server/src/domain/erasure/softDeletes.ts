import * as Y from 'yjs';

type Decoded = { structs: Array<Y.Item | Y.GC | Y.Skip> };

const KEY = Buffer.from('deletedAt', 'utf8');

/**
 * Whether a conversation update sets some message's `deletedAt`: a soft
 * deletion whose text must be erased. A map key travels as its UTF-8 bytes,
 * so an update without them is answered by a byte search, without decoding
 * (a full-state sync of a long conversation is megabytes).
 */
export function setsDeletedAt(update: Uint8Array): boolean {
  if (!Buffer.from(update.buffer, update.byteOffset, update.byteLength).includes(KEY)) return false;
  const { structs } = Y.decodeUpdate(update) as unknown as Decoded;
  return structs.some((struct) => struct instanceof Y.Item && struct.parentSub === 'deletedAt');
}
