import * as Y from 'yjs';
import { describe, expect, it } from 'vitest';
import { appendMessage, editMessage, findMessage, setReaction, setRead, softDeleteMessage } from '@parley/schema';
import { indexChangeOf, wholeIndexOf } from './indexChange';

/** Applies what `change` does on a replica to `server`, returning what it changed in the index. */
function relay(server: Y.Doc, replica: Y.Doc, change: (d: Y.Doc) => void) {
  const before = Y.encodeStateVector(replica);
  change(replica);
  // Like a client's update, it carries the replica's whole delete set; the server's update event gives only what changed.
  const update = Y.encodeStateAsUpdate(replica, before);
  let applied: Y.Transaction | null = null;
  const capture = (_u: Uint8Array, _o: unknown, _d: Y.Doc, t: Y.Transaction) => (applied = t);
  server.on('update', capture);
  Y.applyUpdate(server, update);
  server.off('update', capture);
  return applied ? indexChangeOf(server, 'c', applied) : { conversationId: 'c', messages: [], reads: [] };
}

describe('indexChangeOf', () => {
  const setup = () => {
    const server = new Y.Doc();
    const replica = new Y.Doc();
    for (let i = 0; i < 100; i++) relay(server, replica, (d) => appendMessage(d, { id: `m${i}`, author: 'ann', text: `text ${i}`, createdAt: 1000 + i }));
    return { server, replica };
  };

  it('names the new message, whole', () => {
    const { server, replica } = setup();
    const update = relay(server, replica, (d) => appendMessage(d, { id: 'new', author: 'ann', text: 'hello', createdAt: 5 }));
    expect(update).toEqual({
      conversationId: 'c',
      messages: [{ id: 'new', author: 'ann', kind: 'text', text: 'hello', createdAt: 5, reactions: {} }],
      reads: [],
    });
  });

  it('names only the messages an edit, a deletion or a reaction touched', () => {
    const { server, replica } = setup();
    const edit = relay(server, replica, (d) => editMessage(d, 'm3', 'edited', 7));
    expect(edit.messages.map((m) => [m.id, m.text, m.editedAt])).toEqual([['m3', 'edited', 7]]);
    const gone = relay(server, replica, (d) => softDeleteMessage(d, 'm4', 8));
    expect(gone.messages.map((m) => [m.id, m.text, m.deletedAt])).toEqual([['m4', '', 8]]);
    const react = relay(server, replica, (d) => setReaction(d, 'm5', 'bob', '👍', true, 9));
    expect(react.messages.map((m) => [m.id, m.reactions])).toEqual([['m5', { 'bob:👍': 9 }]]);
    const unreact = relay(server, replica, (d) => setReaction(d, 'm5', 'bob', '👍', false));
    expect(unreact.messages.map((m) => [m.id, m.reactions])).toEqual([['m5', {}]]);
  });

  it('names nothing for an update the document already holds', () => {
    const { server, replica } = setup();
    expect(relay(server, replica, () => {})).toEqual({ conversationId: 'c', messages: [], reads: [] });
  });

  it('names the read receipts an update set', () => {
    const { server, replica } = setup();
    const read = relay(server, replica, (d) => setRead(d, 'bob', 'm9', 11));
    expect(read).toEqual({ conversationId: 'c', messages: [], reads: [{ userId: 'bob', messageId: 'm9', at: 11 }] });
  });

  it('indexes a whole document', () => {
    const { server } = setup();
    const whole = wholeIndexOf(server, 'c');
    expect(whole.messages).toHaveLength(100);
    expect(whole.messages[99]!.id).toBe('m99');
  });
});

describe('indexChangeOf: mentions set by an update (issue 14)', () => {
  /** Applies the replica's change to the server and returns the messages whose mentions it set. */
  function mentionedBy(server: Y.Doc, replica: Y.Doc, change: (d: Y.Doc) => void): string[] {
    const before = Y.encodeStateVector(replica);
    change(replica);
    let applied: Y.Transaction | null = null;
    const capture = (_u: Uint8Array, _o: unknown, _d: Y.Doc, t: Y.Transaction) => (applied = t);
    server.on('update', capture);
    Y.applyUpdate(server, Y.encodeStateAsUpdate(replica, before));
    server.off('update', capture);
    const mentioned = new Set<string>();
    if (applied) indexChangeOf(server, 'c', applied, mentioned);
    return [...mentioned];
  }

  it('names a new message with mentions and an edit of them, not a reaction, an edit of the text or a resend', () => {
    const server = new Y.Doc();
    const replica = new Y.Doc();
    expect(mentionedBy(server, replica, (d) => appendMessage(d, { id: 'plain', author: 'ann', text: 'hi' }))).toEqual([]);
    expect(mentionedBy(server, replica, (d) => appendMessage(d, { id: 'm1', author: 'ann', text: '@bob', mentions: ['bob'] }))).toEqual(['m1']);
    expect(mentionedBy(server, replica, (d) => setReaction(d, 'm1', 'bob', '👍', true))).toEqual([]);
    expect(mentionedBy(server, replica, (d) => editMessage(d, 'm1', '@bob!'))).toEqual([]);
    expect(mentionedBy(server, replica, (d) => (findMessage(d, 'm1')!.map as Y.Map<unknown>).set('mentions', ['bob', 'cat']))).toEqual(['m1']);
    // A replica that resends what the server has changes nothing: no update event, no mention.
    const again = new Y.Doc();
    Y.applyUpdate(again, Y.encodeStateAsUpdate(replica));
    expect(mentionedBy(server, again, () => {})).toEqual([]);
  });
});
