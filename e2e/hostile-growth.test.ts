/**
 * Growth a client should not control: users a caller can make the server
 * "know", members, and the work one announcement to everyone costs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { DEFAULTS, UpdateRejection, conversationDocName, inboxDocName, setMuted, setReaction, setRead } from '@parley/schema';
import { startServer, type TestServer } from './fixtures/server';
import { connectUser, createConversation } from './fixtures/clients';
import { RawClient } from './fixtures/rawClient';

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

/** One update, written by `userId` on a fresh replica of `docName`; the server's verdict. */
async function rawWrite(userId: string, docName: string, mutate: (doc: Y.Doc) => void): Promise<string> {
  const client = await RawClient.connect(server.wsUrl);
  try {
    const doc = await client.open(docName, await server.token(userId));
    const outcome = await doc.send(doc.change(mutate));
    return 'refused' in outcome ? outcome.refused : 'applied';
  } finally {
    client.close();
  }
}

describe('maps a client grows key by key', () => {
  it(`a user puts at most ${DEFAULTS.reactionsMaxPerUserPerMessage} reactions on one message, in one update or in many`, async () => {
    const id = await createConversation(server, 'rhea', ['rex']);
    const sent = await server.api(`/api/conversations/${id}/messages`, { token: await server.token('rhea'), body: { id: 'm1', text: 'react to me' } });
    expect(sent.status).toBe(201);
    const emoji = (from: number, count: number) => Array.from({ length: count }, (_, i) => `e${from + i}`);
    const react = (list: string[]) => (d: Y.Doc) => list.forEach((e) => setReaction(d, 'm1', 'rex', e, true));
    const room = conversationDocName(id);
    expect(await rawWrite('rex', room, react(emoji(0, DEFAULTS.reactionsMaxPerUserPerMessage + 1)))).toBe(UpdateRejection.tooManyEntries);
    expect(await rawWrite('rex', room, react(emoji(0, DEFAULTS.reactionsMaxPerUserPerMessage - 1)))).toBe('applied');
    expect(await rawWrite('rex', room, react(emoji(100, 1)))).toBe('applied');
    expect(await rawWrite('rex', room, react(emoji(200, 1)))).toBe(UpdateRejection.tooManyEntries);
    // Another member still reacts.
    expect(await rawWrite('rhea', room, (d) => setReaction(d, 'm1', 'rhea', '👍', true))).toBe('applied');
  });

  it(`an inbox mutes at most ${DEFAULTS.mutedMaxEntries} conversations`, async () => {
    const inbox = inboxDocName('muter');
    const mute = (from: number, count: number) => (d: Y.Doc) => {
      for (let i = 0; i < count; i++) setMuted(d, `c-${from + i}`, 4_000_000_000_000);
    };
    expect(await rawWrite('muter', inbox, mute(0, DEFAULTS.mutedMaxEntries + 1))).toBe(UpdateRejection.tooManyEntries);
    expect(await rawWrite('muter', inbox, mute(0, DEFAULTS.mutedMaxEntries))).toBe('applied');
    expect(await rawWrite('muter', inbox, mute(DEFAULTS.mutedMaxEntries, 1))).toBe(UpdateRejection.tooManyEntries);
    // Changing or removing an existing entry is still fine.
    expect(await rawWrite('muter', inbox, (d) => setMuted(d, 'c-0', null))).toBe('applied');
  });

  it(`a user writes under at most ${DEFAULTS.clientIdsMaxPerUserPerDocument} Yjs client ids in one document`, async () => {
    const id = await createConversation(server, 'cleo', ['cyd']);
    await server.api(`/api/conversations/${id}/messages`, { token: await server.token('cleo'), body: { id: 'm1', text: 'hi' } });
    const room = conversationDocName(id);
    const manyClients = (count: number, base: number) => (d: Y.Doc) => {
      for (let i = 0; i < count; i++) {
        d.clientID = base + i;
        setRead(d, 'cyd', 'm1', 1_700_000_000_000 + i);
      }
    };
    // In updates of 2,000 new client ids each (one update chaining 10,000 items overflows the validator's stack: a refusal too, but not this one).
    const perUpdate = 2_000;
    for (let done = 0; done < DEFAULTS.clientIdsMaxPerUserPerDocument; done += perUpdate) {
      expect(await rawWrite('cyd', room, manyClients(perUpdate, 1_000_000 + done))).toBe('applied');
    }
    expect(await rawWrite('cyd', room, manyClients(1, 5_000_000))).toBe(UpdateRejection.tooManyEntries);
    // Writing under an id already owned is still fine; so is another member's first write.
    expect(await rawWrite('cyd', room, manyClients(1, 1_000_000))).toBe('applied');
    expect(await rawWrite('cleo', room, (d) => setRead(d, 'cleo', 'm1'))).toBe('applied');
  }, 120_000);
});
