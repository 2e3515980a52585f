import * as Y from 'yjs';
import { describe, expect, it } from 'vitest';
import { appendMessage, editMessage, softDeleteMessage } from '@parley/schema';
import { setsDeletedAt } from './softDeletes';

const updateOf = (doc: Y.Doc, change: () => void): Uint8Array => {
  let captured: Uint8Array | null = null;
  const take = (u: Uint8Array) => (captured = u);
  doc.on('update', take);
  change();
  doc.off('update', take);
  return captured!;
};

describe('setsDeletedAt', () => {
  it('is true for a soft deletion only', () => {
    const doc = new Y.Doc();
    expect(setsDeletedAt(updateOf(doc, () => appendMessage(doc, { id: 'm1', author: 'a', text: 'deletedAt is just a word here' })))).toBe(false);
    expect(setsDeletedAt(updateOf(doc, () => editMessage(doc, 'm1', 'edited')))).toBe(false);
    expect(setsDeletedAt(updateOf(doc, () => softDeleteMessage(doc, 'm1')))).toBe(true);
    // A full state of a document holding a deletion carries it too (a replica's resend).
    expect(setsDeletedAt(Y.encodeStateAsUpdate(doc))).toBe(true);
  });
});
