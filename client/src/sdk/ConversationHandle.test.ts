import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { appendMessage, setRead } from '@parley/schema';
import { vectorOfDoc } from './AckVector';
import { ConversationHandle } from './ConversationHandle';
import { DocReplica } from './DocReplica';

/** A handle over a memory-only replica: derived state with no server and no IndexedDB. */
async function handleFor(me: string) {
  const replica = new DocReplica({ name: 'conversation:c1', storagePrefix: 'unit', meta: null, relay: null, persist: false });
  await replica.whenLoaded();
  return { replica, chat: new ConversationHandle('c1', replica, me) };
}

/** What the server would relay: another user's replica, merged both ways. */
function exchange(a: Y.Doc, b: Y.Doc) {
  Y.applyUpdate(b, Y.encodeStateAsUpdate(a, Y.encodeStateVector(b)));
  Y.applyUpdate(a, Y.encodeStateAsUpdate(b, Y.encodeStateVector(a)));
}

describe('ConversationHandle derived state', () => {
  it('message states: pending until acknowledged, sent, then read once another member passes it', async () => {
    const { replica, chat } = await handleFor('me');
    const first = chat.send('one');
    const second = chat.send('two');
    expect(chat.snapshot().messages.map((m) => m.status)).toEqual(['pending', 'pending']);
    expect(chat.snapshot().pending).toBe(2);

    replica.mergeAck(vectorOfDoc(replica.doc), false);
    expect(chat.snapshot().messages.map((m) => m.status)).toEqual(['sent', 'sent']);

    const other = new Y.Doc();
    exchange(replica.doc, other);
    setRead(other, 'you', first);
    exchange(replica.doc, other);
    const byId = Object.fromEntries(chat.snapshot().messages.map((m) => [m.id, m]));
    expect(byId[first]).toMatchObject({ status: 'read', readBy: ['you'] });
    expect(byId[second]).toMatchObject({ status: 'sent', readBy: [] });
  });

  it('unread counts others’ messages after the own receipt; markRead only moves forward', async () => {
    const { replica, chat } = await handleFor('me');
    const other = new Y.Doc();
    appendMessage(other, { id: 'a', author: 'you', text: 'a' });
    appendMessage(other, { id: 'b', author: 'you', text: 'b' });
    exchange(replica.doc, other);
    chat.send('mine');
    expect(chat.snapshot().unread).toBe(2);
    expect(chat.markRead('a')).toBe(true);
    expect(chat.snapshot().unread).toBe(1);
    expect(chat.markRead()).toBe(true);
    expect(chat.snapshot().unread).toBe(0);
    expect(chat.markRead('a')).toBe(false);
    expect(chat.snapshot().reads.me?.messageId).not.toBe('a');
  });

  it('only the author edits or deletes; reactions toggle per user; replies point at their message', async () => {
    const { replica, chat } = await handleFor('me');
    const other = new Y.Doc();
    appendMessage(other, { id: 'theirs', author: 'you', text: 'hi' });
    exchange(replica.doc, other);
    expect(chat.edit('theirs', 'changed')).toBe(false);
    expect(chat.remove('theirs')).toBe(false);
    const reply = chat.reply('theirs', 'hello');
    expect(chat.edit(reply, 'hello!')).toBe(true);
    expect(chat.toggleReaction('theirs', '👍')).toBe(true);
    const snapshot = chat.snapshot();
    expect(snapshot.messages.find((m) => m.id === reply)).toMatchObject({ text: 'hello!', replyTo: 'theirs' });
    expect(snapshot.messages.find((m) => m.id === 'theirs')?.reactions).toHaveProperty(['me:👍']);
    expect(chat.toggleReaction('theirs', '👍')).toBe(true);
    expect(chat.snapshot().messages.find((m) => m.id === 'theirs')?.reactions).toEqual({});
    expect(chat.remove(reply)).toBe(true);
    expect(chat.snapshot().messages.find((m) => m.id === reply)).toMatchObject({ text: '', deletedAt: expect.any(Number) });
    expect(() => chat.send('x'.repeat(16 * 1024 + 1))).toThrow();
  });

  it('keeps the same snapshot object until something changes', async () => {
    const { chat } = await handleFor('me');
    const before = chat.snapshot();
    expect(chat.snapshot()).toBe(before);
    chat.send('change');
    expect(chat.snapshot()).not.toBe(before);
  });
});
