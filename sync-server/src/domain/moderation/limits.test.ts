import { describe, expect, it } from 'vitest';
import { DEFAULTS, type Identity } from '@parley/schema';
import { SqliteStorage } from '../../storage/SqliteStorage';
import type { ServerWriter } from '../../sync/ServerWriter';
import { Blocks } from './Blocks';
import { Reports } from './Reports';

const as = (userId: string): Identity => ({ userId, name: userId, roles: [], expiresAt: Number.MAX_SAFE_INTEGER });

/** The named limits of blocks and reports (DEFAULTS), at their edge: the one past it is refused and nothing is written. */
describe('moderation limits', () => {
  it(`a user blocks at most ${DEFAULTS.blocksMaxPerUser} users; re-blocking one of them still answers`, async () => {
    const storage = new SqliteStorage(':memory:');
    for (let i = 0; i < DEFAULTS.blocksMaxPerUser; i++) await storage.blocks.add('ann', `u${i}`, i);
    const blocks = new Blocks(storage);
    await expect(blocks.block(as('ann'), 'one-more')).rejects.toMatchObject({ status: 409, code: 'limit_reached' });
    expect(await storage.blocks.has('ann', 'one-more')).toBe(false);
    await expect(blocks.block(as('ann'), 'u0')).resolves.toMatchObject({ userId: 'u0', createdAt: 0 });
    await expect(blocks.block(as('ann'), 'ann')).rejects.toMatchObject({ status: 400 });
    await storage.close();
  });

  it(`a user has at most ${DEFAULTS.reportsOpenMaxPerUser} open reports`, async () => {
    const storage = new SqliteStorage(':memory:');
    await storage.conversations.create({ id: 'c1', kind: 'group', title: 't', createdBy: 'ann', createdAt: 1, ref: null, directKey: null, members: [{ userId: 'ann', role: 'owner', joinedAt: 1 }] });
    await storage.messages.write({ conversationId: 'c1', messages: [{ id: 'm1', author: 'bob', kind: 'text', text: 'x', createdAt: 1, reactions: {} }], reads: [] });
    for (let i = 0; i < DEFAULTS.reportsOpenMaxPerUser; i++) await storage.reports.add({ conversationId: 'c1', messageId: `other${i}`, reporter: 'ann', reason: 'r', createdAt: i });
    const reports = new Reports({ storage, writer: {} as ServerWriter });
    await expect(reports.report(as('ann'), 'c1', 'm1', 'spam')).rejects.toMatchObject({ status: 409, code: 'limit_reached' });
    expect(await storage.reports.openCount('ann')).toBe(DEFAULTS.reportsOpenMaxPerUser);
    await storage.close();
  });
});
