import * as Y from 'yjs';
import { describe, expect, it } from 'vitest';
import { appendMessage, editMessage, inboxParts, setReaction, setRead, softDeleteMessage } from '@parley/schema';
import { replacedQuotes, softDeletedMessages, type ErasedBy } from './erasedBy';

/** The ids `erasedBy` reports for each transaction `change` makes on `doc`, here and on a replica that receives its update. */
function reported(doc: Y.Doc, erasedBy: ErasedBy, change: () => void): { local: string[]; remote: string[] } {
  const remoteDoc = new Y.Doc();
  erasedBy.define(remoteDoc);
  Y.applyUpdate(remoteDoc, Y.encodeStateAsUpdate(doc));
  const local: string[] = [];
  const remote: string[] = [];
  const onLocal = (t: Y.Transaction) => local.push(...erasedBy.erased(t, doc));
  const onRemote = (t: Y.Transaction) => remote.push(...erasedBy.erased(t, remoteDoc));
  const relay = (update: Uint8Array) => Y.applyUpdate(remoteDoc, update, 'server');
  doc.on('afterTransaction', onLocal);
  doc.on('update', relay);
  remoteDoc.on('afterTransaction', onRemote);
  change();
  doc.off('afterTransaction', onLocal);
  doc.off('update', relay);
  return { local, remote };
}

describe('erasedBy', () => {
  it('a conversation: only soft deletions count, made here or received', () => {
    const doc = new Y.Doc();
    appendMessage(doc, { id: 'm1', author: 'ann', text: 'secret' });
    appendMessage(doc, { id: 'm2', author: 'ann', text: 'kept' });
    expect(reported(doc, softDeletedMessages, () => appendMessage(doc, { id: 'm3', author: 'ann', text: 'new' }))).toEqual({ local: [], remote: [] });
    expect(reported(doc, softDeletedMessages, () => editMessage(doc, 'm2', 'kept, edited'))).toEqual({ local: [], remote: [] });
    expect(reported(doc, softDeletedMessages, () => setReaction(doc, 'm2', 'bob', '👍', true))).toEqual({ local: [], remote: [] });
    expect(reported(doc, softDeletedMessages, () => setRead(doc, 'bob', 'm2'))).toEqual({ local: [], remote: [] });
    expect(reported(doc, softDeletedMessages, () => softDeleteMessage(doc, 'm1'))).toEqual({ local: ['m1'], remote: ['m1'] });
  });

  it('an inbox: a replaced notification body or conversation summary counts; a new one or a read mark does not', () => {
    const doc = new Y.Doc();
    const { notifications, conversations } = inboxParts(doc);
    const n = new Y.Map<unknown>();
    expect(
      reported(doc, replacedQuotes, () =>
        doc.transact(() => {
          notifications.set('chat:c1:m1', n);
          n.set('id', 'chat:c1:m1');
          n.set('body', 'secret');
          conversations.set('c1', { title: 'T', lastMessage: { author: 'ann', text: 'secret', at: 1 }, unread: 1 });
        }),
      ),
    ).toEqual({ local: [], remote: [] });
    expect(reported(doc, replacedQuotes, () => n.set('readAt', 5))).toEqual({ local: [], remote: [] });
    const replaced = reported(doc, replacedQuotes, () =>
      doc.transact(() => {
        n.set('body', 'Message deleted');
        conversations.set('c1', { title: 'T', lastMessage: { author: 'ann', text: 'Message deleted', at: 1 }, unread: 0 });
      }),
    );
    expect(replaced.local.sort()).toEqual(['c1', 'chat:c1:m1']);
    expect(replaced.remote.sort()).toEqual(['c1', 'chat:c1:m1']);
  });

  it('a compacted replica holds no deleted text (what LocalCompaction writes)', () => {
    const doc = new Y.Doc();
    appendMessage(doc, { id: 'm1', author: 'ann', text: 'wombat-secret' });
    const log = [Y.encodeStateAsUpdate(doc)];
    doc.on('update', (u: Uint8Array) => log.push(u));
    softDeleteMessage(doc, 'm1');
    const has = (bytes: Uint8Array) => Buffer.from(bytes).includes(Buffer.from('wombat-secret'));
    expect(log.some(has)).toBe(true);
    expect(has(Y.encodeStateAsUpdate(doc))).toBe(false);
  });
});
