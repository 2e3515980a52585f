import * as Y from 'yjs';
import { describe, expect, it } from 'vitest';
import { appendMessage, conversationParts, editMessage } from '@parley/schema';
import { messageIds } from './MessageIds';

const message = (id: string) => ({ id, author: 'ann', text: `text of ${id}`, createdAt: 1 });

describe('messageIds', () => {
  it('holds the ids stored before it was built and every message added since, locally or by an update', () => {
    const doc = new Y.Doc();
    for (let i = 0; i < 3; i++) appendMessage(doc, message(`old${i}`));
    const ids = messageIds(doc);
    expect([...ids].sort()).toEqual(['old0', 'old1', 'old2']);

    appendMessage(doc, message('local'));
    const replica = new Y.Doc();
    Y.applyUpdate(replica, Y.encodeStateAsUpdate(doc));
    const before = Y.encodeStateVector(replica);
    // Two messages in one transaction, from another replica.
    replica.transact(() => {
      appendMessage(replica, message('remote1'));
      appendMessage(replica, message('remote2'));
    });
    Y.applyUpdate(doc, Y.encodeStateAsUpdate(replica, before));
    expect([...ids].sort()).toEqual(['local', 'old0', 'old1', 'old2', 'remote1', 'remote2']);
    expect(messageIds(doc)).toBe(ids);
  });

  it('takes no id from a change inside a message, nor from a message added and removed in one transaction', () => {
    const doc = new Y.Doc();
    appendMessage(doc, message('kept'));
    const ids = messageIds(doc);
    editMessage(doc, 'kept', 'edited');
    doc.transact(() => {
      appendMessage(doc, message('gone'));
      conversationParts(doc).messages.delete(1, 1);
    });
    expect([...ids]).toEqual(['kept']);
  });
});
