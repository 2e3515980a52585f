import * as Y from 'yjs';

type Decoded = { structs: Array<Y.Item | Y.GC | Y.Skip> };

/** Whether a conversation update sets some message's `deletedAt`: a soft deletion whose text must be erased. */
export function setsDeletedAt(update: Uint8Array): boolean {
  const { structs } = Y.decodeUpdate(update) as unknown as Decoded;
  return structs.some((struct) => struct instanceof Y.Item && struct.parentSub === 'deletedAt');
}
