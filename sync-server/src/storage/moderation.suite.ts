import { describe, expect, it } from 'vitest';
import type { Storage } from './Storage';

/** Blocks and reports (issue 14): what every Storage must do with them. */
export function moderationSuite(name: string, open: () => Promise<Storage>): void {
  describe(`${name}: blocks and reports`, () => {
    it('keeps blocks per blocker, idempotent, and finds them between members of a room', async () => {
      const storage = await open();
      expect(await storage.blocks.add('ann', 'eve', 1)).toBe(true);
      expect(await storage.blocks.add('ann', 'eve', 2)).toBe(false);
      await storage.blocks.add('ann', 'max', 3);
      await storage.blocks.add('bob', 'eve', 4);
      expect((await storage.blocks.list('ann')).map((b) => [b.blocked, b.createdAt])).toEqual([['max', 3], ['eve', 1]]);
      expect(await storage.blocks.count('ann')).toBe(2);
      expect(await storage.blocks.has('eve', 'ann')).toBe(false);
      expect((await storage.blocks.blockersOf('eve', ['ann', 'bob', 'cat'])).sort()).toEqual(['ann', 'bob']);
      await storage.conversations.create({
        id: 'c1', kind: 'group', title: 't', createdBy: 'ann', createdAt: 1, ref: null, directKey: null,
        members: ['ann', 'eve', 'cat'].map((userId) => ({ userId, role: 'member' as const, joinedAt: 1 })),
      });
      // Bob is no member, and max neither: only ann -> eve is between members.
      expect(await storage.blocks.amongMembers('c1')).toEqual(new Map([['ann', new Set(['eve'])]]));
      expect(await storage.blocks.remove('ann', 'eve')).toBe(true);
      expect(await storage.blocks.remove('ann', 'eve')).toBe(false);
      await storage.close();
    });

    it('stores one report per reporter and message, lists open ones oldest first, closes once', async () => {
      const storage = await open();
      const first = await storage.reports.add({ conversationId: 'c1', messageId: 'm1', reporter: 'ann', reason: 'spam', createdAt: 10 });
      expect(first).toMatchObject({ conversationId: 'c1', messageId: 'm1', reporter: 'ann', reason: 'spam', closedAt: null, closedBy: null });
      expect(await storage.reports.add({ conversationId: 'c1', messageId: 'm1', reporter: 'ann', reason: 'again', createdAt: 11 })).toBeNull();
      const second = (await storage.reports.add({ conversationId: 'c1', messageId: 'm1', reporter: 'bob', reason: 'rude', createdAt: 12 }))!;
      expect((await storage.reports.list('open', 10)).map((r) => r.id)).toEqual([first!.id, second.id]);
      expect(await storage.reports.openCount('ann')).toBe(1);
      expect(await storage.reports.close(first!.id, 'mod', 20)).toBe(true);
      expect(await storage.reports.close(first!.id, 'other', 30)).toBe(false);
      expect(await storage.reports.get(first!.id)).toMatchObject({ closedAt: 20, closedBy: 'mod' });
      expect((await storage.reports.list('open', 10)).map((r) => r.id)).toEqual([second.id]);
      expect((await storage.reports.list('closed', 10)).map((r) => r.id)).toEqual([first!.id]);
      expect(await storage.reports.openCount('ann')).toBe(0);
      expect(await storage.reports.get('999')).toBeNull();
      await storage.close();
    });
  });
}
