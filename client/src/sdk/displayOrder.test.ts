import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { appendMessage } from '@parley/schema';
import { ConversationHandle } from './ConversationHandle';
import { DocReplica } from './DocReplica';

/**
 * Issue 12 item 8, the documented display order: by createdAt, ties in the
 * document's (converged) array order,
 * the same on every device, whatever order the replicas merged in.
 */
async function device(me: string) {
  const replica = new DocReplica({ name: 'conversation:c1', storagePrefix: `order-${me}`, meta: null, relay: null, persist: false });
  await replica.whenLoaded();
  return { doc: replica.doc, chat: new ConversationHandle('c1', replica, me) };
}
const sync = (from: Y.Doc, to: Y.Doc) => Y.applyUpdate(to, Y.encodeStateAsUpdate(from, Y.encodeStateVector(to)));

describe('display order of messages written while both were offline', () => {
  it('interleaves by the time written, identically on both devices, ties in array order', async () => {
    const alice = await device('alice');
    const bob = await device('bob');
    const t0 = Date.UTC(2026, 0, 1, 12);
    // Written apart, alternately: alice at t0, t0+2s, t0+4s; bob at t0+1s, t0+3s, and one tied with alice's last.
    appendMessage(alice.doc, { id: 'a1', author: 'alice', text: 'a1', createdAt: t0 });
    appendMessage(alice.doc, { id: 'a2', author: 'alice', text: 'a2', createdAt: t0 + 2_000 });
    appendMessage(alice.doc, { id: 'a3', author: 'alice', text: 'a3', createdAt: t0 + 4_000 });
    appendMessage(bob.doc, { id: 'b1', author: 'bob', text: 'b1', createdAt: t0 + 1_000 });
    appendMessage(bob.doc, { id: 'b2', author: 'bob', text: 'b2', createdAt: t0 + 3_000 });
    appendMessage(bob.doc, { id: 'b0', author: 'bob', text: 'b0', createdAt: t0 + 4_000 });
    // They meet again (through the server), in opposite directions.
    sync(alice.doc, bob.doc);
    sync(bob.doc, alice.doc);
    const raw = alice.doc.getArray<Y.Map<unknown>>('messages').toArray().map((m) => m.get('id') as string);
    // The tie (a3 and b0, both at t0+4s) keeps the order Yjs gave the array, the same on both replicas.
    const tie = raw.filter((id) => id === 'a3' || id === 'b0');
    const expected = ['a1', 'b1', 'a2', 'b2', ...tie];
    expect(alice.chat.snapshot().messages.map((m) => m.id)).toEqual(expected);
    expect(bob.chat.snapshot().messages.map((m) => m.id)).toEqual(expected);
    // The document itself merged them grouped by replica: the order above is the SDK's, not Yjs's.
    expect(raw).not.toEqual(expected);
  });

  it("one author's messages of the same millisecond stay in the order sent", async () => {
    const alice = await device('alice');
    const at = Date.UTC(2026, 0, 1, 12);
    const ids = Array.from({ length: 30 }, (_, i) => `z${String(29 - i).padStart(2, '0')}`);
    for (const id of ids) appendMessage(alice.doc, { id, author: 'alice', text: id, createdAt: at });
    expect(alice.chat.snapshot().messages.map((m) => m.id)).toEqual(ids);
  });

  it('reading up to the last shown message reads everything shown; the receipt never moves back in display order', async () => {
    const alice = await device('alice');
    const bob = await device('bob');
    const t0 = Date.UTC(2026, 0, 1, 12);
    appendMessage(alice.doc, { id: 'x-late', author: 'alice', text: 'late', createdAt: t0 + 5_000 });
    appendMessage(bob.doc, { id: 'y-early', author: 'carol', text: 'early', createdAt: t0 });
    sync(alice.doc, bob.doc);
    sync(bob.doc, alice.doc);
    expect(bob.chat.snapshot().unread).toBe(2);
    expect(bob.chat.markRead()).toBe(true);
    expect(bob.chat.snapshot().reads.bob?.messageId).toBe('x-late');
    expect(bob.chat.snapshot().unread).toBe(0);
    expect(bob.chat.markRead('y-early')).toBe(false);
  });
});
