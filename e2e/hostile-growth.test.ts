/**
 * Growth a client should not control: users a caller can make the server
 * "know", members, and the work one announcement to everyone costs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS, inboxDocName } from '@parley/schema';
import { startServer, type TestServer } from './fixtures/server';
import { connectUser } from './fixtures/clients';

let server: TestServer;
let service: string;

beforeAll(async () => {
  // The HTTP rate limit would slow the set-up of these tests down to its pace; the limits under test are others.
  server = await startServer({ env: { HTTP_RATE_LIMIT_USER: '1000000', HTTP_RATE_LIMIT_SERVICE: '1000000' } });
  service = await server.token('shop', { roles: ['service'] });
});

afterAll(async () => {
  await server?.stop();
});

const now = () => new Date().toISOString();

/** Polls /healthz from outside until `done`, and reports the slowest answer. */
async function slowestHealth(done: () => Promise<boolean>, timeoutMs: number): Promise<{ maxMs: number; finished: boolean }> {
  const deadline = Date.now() + timeoutMs;
  let maxMs = 0;
  while (Date.now() < deadline) {
    const started = performance.now();
    await server.api('/healthz');
    maxMs = Math.max(maxMs, performance.now() - started);
    if (await done()) return { maxMs, finished: true };
    await new Promise((r) => setTimeout(r, 50));
  }
  return { maxMs, finished: false };
}

async function notificationCount(userId: string): Promise<number> {
  const { body } = await server.api('/api/notifications?limit=200&archived=1', { token: await server.token(userId) });
  return (body.notifications as unknown[]).length;
}

/** Runs `work` for 0..count-1, `parallel` at a time. */
async function inBatches(count: number, parallel: number, work: (i: number) => Promise<void>): Promise<void> {
  for (let start = 0; start < count; start += parallel) await Promise.all(Array.from({ length: Math.min(parallel, count - start) }, (_, j) => work(start + j)));
}

describe('known users', () => {
  it('ids a user puts into conversations are not "known": an announcement to everyone reaches signed-in and service-named users only', async () => {
    const mallory = await server.token('mallory');
    const invented = Array.from({ length: DEFAULTS.membersMaxPerCreate - 1 }, (_, i) => `ghost-${i}`);
    const created = await server.api('/api/conversations', { token: mallory, body: { members: invented, title: 'ghosts' } });
    expect(created.status).toBe(201);
    expect((await server.api(`/api/conversations/${created.body.id}/members`, { token: mallory, body: { userId: 'ghost-extra' } })).status).toBe(201);
    // Signing in makes a user known; so does a service naming them.
    const zoe = await connectUser(server, 'zz-signed-in');
    await zoe.open(inboxDocName('zz-signed-in')).synced;
    zoe.destroy();
    const named = await server.api('/api/events', { token: service, body: { id: 'welcome-1', type: 'system.announcement', occurredAt: now(), subject: { type: 'news', id: 'w' }, recipients: ['yy-named'] } });
    expect(named.status).toBe(202);

    const all = await server.api('/api/events', { token: service, body: { id: 'all-1', type: 'system.announcement', occurredAt: now(), subject: { type: 'news', id: 'all' }, data: { title: 'Everyone' } } });
    expect(all.status).toBe(202);
    // Known users are written in id order: once the last one has it, the announcement is applied.
    const deadline = Date.now() + 20_000;
    while ((await notificationCount('zz-signed-in')) === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(await notificationCount('zz-signed-in')).toBe(1);
    expect(await notificationCount('mallory')).toBe(1);
    expect(await notificationCount('yy-named')).toBe(2);
    expect(await notificationCount('ghost-0')).toBe(0);
    expect(await notificationCount('ghost-extra')).toBe(0);
  });
});

describe('announcements', () => {
  it('an announcement to 10,000 users is applied in turns: /healthz keeps answering meanwhile', async () => {
    const recipients = Array.from({ length: 10_000 }, (_, i) => `crowd-${String(i).padStart(5, '0')}`);
    const posted = await server.api('/api/events', { token: service, body: { id: 'big-1', type: 'system.announcement', occurredAt: now(), subject: { type: 'news', id: 'n1' }, recipients, data: { title: 'Hello' } } });
    expect(posted.status).toBe(202);
    const last = recipients[recipients.length - 1]!;
    const { maxMs, finished } = await slowestHealth(async () => (await notificationCount(last)) > 0, 120_000);
    expect(finished).toBe(true);
    expect(maxMs).toBeLessThan(2500);
  }, 180_000);
});

describe('members and conversations', () => {
  it(`a conversation holds at most ${DEFAULTS.membersMaxPerConversation} members, however they are added`, async () => {
    const first = Array.from({ length: DEFAULTS.membersMaxPerCreate }, (_, i) => `m-${i}`);
    const created = await server.api('/api/conversations', { token: service, body: { members: first, title: 'big' } });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    await inBatches(DEFAULTS.membersMaxPerConversation - first.length, 50, async (i) => {
      const added = await server.api(`/api/conversations/${id}/members`, { token: service, body: { userId: `m-${first.length + i}` } });
      expect(added.status).toBe(201);
    });
    const over = await server.api(`/api/conversations/${id}/members`, { token: service, body: { userId: 'one-too-many' } });
    expect(over.status).toBe(409);
    expect(over.body.error.code).toBe('limit_reached');
    // Adding someone already there is still fine.
    expect((await server.api(`/api/conversations/${id}/members`, { token: service, body: { userId: 'm-1' } })).status).toBeLessThan(300);
  }, 120_000);

  it(`a user creates at most ${DEFAULTS.conversationsOwnedMaxPerUser} conversations; opening an existing direct one still works`, async () => {
    const hoarder = await server.token('hoarder');
    const direct = await server.api('/api/conversations', { token: hoarder, body: { members: ['friend'] } });
    expect(direct.status).toBe(201);
    await inBatches(DEFAULTS.conversationsOwnedMaxPerUser - 1, 50, async (i) => {
      const created = await server.api('/api/conversations', { token: hoarder, body: { members: [`pal-${i}`], title: `room ${i}` } });
      expect(created.status).toBe(201);
    });
    const over = await server.api('/api/conversations', { token: hoarder, body: { members: ['pal-x'], title: 'one more' } });
    expect(over.status).toBe(409);
    expect(over.body.error.code).toBe('limit_reached');
    expect((await server.api('/api/conversations', { token: hoarder, body: { members: ['friend'] } })).status).toBeLessThan(300);
  }, 120_000);
});
