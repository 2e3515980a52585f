import { describe, expect, it } from 'vitest';
import { unreadCount, type Message, type ReadReceipt } from '@parley/schema';
import { SqliteStorage } from '../../storage/SqliteStorage';
import { DELETED_QUOTE, digestAll } from './conversationDigest';
import { seededRandom } from '../../../../e2e/fixtures/random';

const message = (i: number, author: string): Message => ({ id: `m${i}`, author, kind: 'text', text: `t${i}`, createdAt: 1_700_000_000_000 + i, reactions: {} });

describe('digestAll (from the message index)', () => {
  it('matches a plain count from the read receipt, for random conversations (seeded)', async () => {
    const seed = Number(process.env.SEED ?? Date.now() % 1_000_000);
    const random = seededRandom(seed);
    const users = ['a', 'b', 'c', 'd'];
    const storage = new SqliteStorage(':memory:');
    try {
      for (let round = 0; round < 30; round++) {
        const conversationId = `c${round}`;
        const n = Math.floor(random() * 60);
        const messages = Array.from({ length: n }, (_, i) => message(i, users[Math.floor(random() * users.length)]!));
        await storage.messages.write({ conversationId, messages, reads: [] });
        for (const m of messages) {
          if (random() < 0.1) m.deletedAt = m.createdAt + 1;
          else if (random() < 0.2) Object.assign(m, { text: `edited ${m.id}`, editedAt: m.createdAt + 1 });
        }
        const reads: Record<string, ReadReceipt> = Object.fromEntries(users.filter(() => random() < 0.7).map((u) => [u, { messageId: `m${Math.floor(random() * (n + 2))}`, at: 1 }]));
        await storage.messages.write({ conversationId, messages, reads: Object.entries(reads).map(([userId, r]) => ({ userId, ...r })) });
        const digests = await digestAll(storage.messages, conversationId, users);
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
    } finally {
      await storage.close();
    }
  });

  it('counts exactly, with no cap (the document digest stopped at 2,000)', async () => {
    const storage = new SqliteStorage(':memory:');
    try {
      await storage.messages.write({ conversationId: 'big', messages: Array.from({ length: 2_500 }, (_, i) => message(i, 'a')), reads: [] });
      expect((await digestAll(storage.messages, 'big', ['b'])).get('b')!.unread).toBe(2_500);
    } finally {
      await storage.close();
    }
  });
});

describe('digestAll with blocks (issue 14)', () => {
  it("leaves a blocked author's messages out of the blocker's unread count and notification, nobody else's", async () => {
    const storage = new SqliteStorage(':memory:');
    try {
      const messages = [message(1, 'a'), message(2, 'b'), message(3, 'b')];
      await storage.messages.write({ conversationId: 'c', messages, reads: [] });
      const digests = await digestAll(storage.messages, 'c', ['a', 'b', 'c'], new Map([['c', new Set(['b'])]]));
      expect(digests.get('c')).toMatchObject({ unread: 1, latestUnread: { id: 'm1', author: 'a' } });
      expect(digests.get('a')).toMatchObject({ unread: 2, latestUnread: { id: 'm3' } });
      await storage.messages.write({ conversationId: 'c', messages: [], reads: [{ userId: 'a', messageId: 'm1', at: 1 }] });
      const onlyBlocked = await digestAll(storage.messages, 'c', ['a'], new Map([['a', new Set(['b'])]]));
      expect(onlyBlocked.get('a')).toMatchObject({ unread: 0, latestUnread: null });
    } finally {
      await storage.close();
    }
  });
});
