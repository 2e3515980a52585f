import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { appendMessage, editMessage, readMessages, softDeleteMessage, unreadCount } from '@parley/schema';
import { DELETED_QUOTE, digestAll, UNREAD_WINDOW } from './conversationDigest';
import { seededRandom } from '../../../../e2e/fixtures/random';

describe('digestAll', () => {
  it('matches a plain count from the read receipt, for random conversations (seeded)', () => {
    const seed = Number(process.env.SEED ?? Date.now() % 1_000_000);
    const random = seededRandom(seed);
    const users = ['a', 'b', 'c', 'd'];
    for (let round = 0; round < 50; round++) {
      const doc = new Y.Doc();
      const n = Math.floor(random() * 60);
      for (let i = 0; i < n; i++) appendMessage(doc, { id: `m${i}`, author: users[Math.floor(random() * users.length)]!, text: `t${i}` });
      digestAll(doc, users, {}); // read every message once: the changes below must show through
      for (let i = 0; i < n; i++) if (random() < 0.1) softDeleteMessage(doc, `m${i}`);
      for (let i = 0; i < n; i++) if (random() < 0.2) editMessage(doc, `m${i}`, `edited ${i}`);
      const reads = Object.fromEntries(users.filter(() => random() < 0.7).map((u) => [u, { messageId: `m${Math.floor(random() * (n + 2))}`, at: 1 }]));
      const digests = digestAll(doc, users, reads);
      const messages = readMessages(doc);
      for (const u of users) {
        const expected = unreadCount(messages, u, reads[u]);
        expect(digests.get(u)!.unread, `seed ${seed} round ${round} user ${u}; reproduce with SEED=${seed}`).toBe(expected);
        const latest = digests.get(u)!.latestUnread;
        expect(latest === null).toBe(expected === 0);
        if (latest) expect(latest.author).not.toBe(u);
      }
      const last = messages.at(-1);
      expect(digests.get('a')!.lastMessage?.text ?? null).toBe(last ? (last.deletedAt !== undefined ? DELETED_QUOTE : last.text) : null);
    }
  });

  it('looks back at most UNREAD_WINDOW messages', () => {
    const doc = new Y.Doc();
    doc.transact(() => {
      for (let i = 0; i < UNREAD_WINDOW + 10; i++) appendMessage(doc, { id: `m${i}`, author: 'a', text: 'x' });
    });
    expect(digestAll(doc, ['b'], {}).get('b')!.unread).toBe(UNREAD_WINDOW);
  });
});

describe('digestAll with blocks (issue 14)', () => {
  it("leaves a blocked author's messages out of the blocker's unread count and notification, nobody else's", () => {
    const doc = new Y.Doc();
    appendMessage(doc, { id: 'm1', author: 'a', text: 'from a' });
    appendMessage(doc, { id: 'm2', author: 'b', text: 'from b' });
    appendMessage(doc, { id: 'm3', author: 'b', text: 'from b again' });
    const digests = digestAll(doc, ['a', 'b', 'c'], {}, new Map([['c', new Set(['b'])]]));
    expect(digests.get('c')).toMatchObject({ unread: 1, latestUnread: { id: 'm1', author: 'a' } });
    expect(digests.get('a')).toMatchObject({ unread: 2, latestUnread: { id: 'm3' } });
    const onlyBlocked = digestAll(doc, ['a'], { a: { messageId: 'm1', at: 1 } }, new Map([['a', new Set(['b'])]]));
    expect(onlyBlocked.get('a')).toMatchObject({ unread: 0, latestUnread: null });
  });
});
