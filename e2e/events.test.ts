import { afterEach, describe, expect, it } from 'vitest';
import { conversationDocName, inboxDocName, listNotifications, readMembers, readMeta, type Notification } from '@parley/schema';
import { startServer, type TestServer } from './fixtures/server';
import { connectUser } from './fixtures/clients';
import { notificationsOf } from './fixtures/notifications';

const servers: TestServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.kill().catch(() => {});
});
async function start(env: Record<string, string> = {}) {
  const server = await startServer({ env });
  servers.push(server);
  return server;
}

const now = () => new Date().toISOString();

describe('business events', () => {
  it('each built-in type has the contract\'s effect', async () => {
    const server = await start();
    const service = await server.token('shop', { roles: ['service'] });
    const post = async (body: Record<string, unknown>) => {
      const response = await server.api('/api/events', { token: service, body: { occurredAt: now(), ...body } });
      expect(response, JSON.stringify(body)).toMatchObject({ status: 202, body: { accepted: true } });
    };
    await server.api('/api/dev/login', { body: { userId: 'owner1', name: 'Olive' } });
    await post({ id: 'e1', type: 'job.created', actor: 'owner1', subject: { type: 'job', id: 'J1' }, recipients: ['pro1', 'pro2'], data: { title: 'Fix the sink' } });
    await post({ id: 'e2', type: 'quote.sent', actor: 'pro1', subject: { type: 'quote', id: 'q1' }, data: { jobId: 'J1', amount: '120 EUR' } });
    await post({ id: 'e3', type: 'quote.sent', actor: 'pro2', subject: { type: 'quote', id: 'q2' }, data: { jobId: 'J1' } });
    await post({ id: 'e4', type: 'quote.accepted', actor: 'owner1', subject: { type: 'quote', id: 'q1' } });
    await post({ id: 'e5', type: 'quote.rejected', actor: 'owner1', subject: { type: 'quote', id: 'q2' } });
    await post({ id: 'e6', type: 'job.started', actor: 'pro1', subject: { type: 'job', id: 'J1' } });
    await post({ id: 'e7', type: 'job.completed', actor: 'pro1', subject: { type: 'job', id: 'J1' } });
    await post({ id: 'e8', type: 'payment.received', subject: { type: 'payment', id: 'pay1' }, data: { jobId: 'J1', amount: '120 EUR' } });
    await post({ id: 'e9', type: 'payment.failed', subject: { type: 'payment', id: 'pay2' }, data: { jobId: 'J1' } });
    await post({ id: 'e10', type: 'review.created', actor: 'owner1', subject: { type: 'review', id: 'r1' }, data: { revieweeId: 'pro1', rating: 5 } });
    await post({ id: 'e11', type: 'system.announcement', subject: { type: 'news', id: 'n1' }, data: { title: 'Maintenance', body: 'Tonight' } });

    const kinds = (list: Notification[]) => list.map((n) => n.kind).sort();
    expect(kinds(await notificationsOf(server, 'owner1', 6))).toEqual(['job_completed', 'job_started', 'new_quote', 'new_quote', 'payment_failed', 'system']);
    expect(kinds(await notificationsOf(server, 'pro1', 5))).toEqual(['new_job', 'new_review', 'payment_received', 'quote_accepted', 'system']);
    expect(kinds(await notificationsOf(server, 'pro2', 3))).toEqual(['new_job', 'quote_rejected', 'system']);
    const owner = await notificationsOf(server, 'owner1', 6);
    const quote = owner.find((n) => n.kind === 'new_quote' && n.data.actor === 'pro1')!;
    expect(quote).toMatchObject({ data: { entity: { type: 'quote', id: 'q1' }, conversationId: 'job-J1' }, readAt: null });
    expect(quote.body).toContain('120 EUR');
    const job = (await notificationsOf(server, 'pro2', 3)).find((n) => n.kind === 'new_job')!;
    expect(job.title).toBe('New job: Fix the sink');
    expect(job.body).toContain('Olive');

    // job.created made the job conversation; quote.accepted added the professional.
    const client = await connectUser(server, 'owner1');
    try {
      const open = client.open(conversationDocName('job-J1'));
      await open.synced;
      expect(readMeta(open.doc)).toMatchObject({ id: 'job-J1', kind: 'job', ref: { type: 'job', id: 'J1' }, title: 'Fix the sink' });
      expect(Object.entries(readMembers(open.doc)).map(([id, m]) => [id, m.role]).sort()).toEqual([['owner1', 'owner'], ['pro1', 'member']]);
    } finally {
      client.destroy();
    }
  });

  it('the same id twice answers duplicate and notifies once; refusals store nothing', async () => {
    const server = await start();
    const service = await server.token('shop', { roles: ['service'] });
    const event = { id: 'dup-1', type: 'review.created', occurredAt: Date.now(), subject: { type: 'review', id: 'r' }, recipients: ['gus'] };
    expect(await server.api('/api/events', { token: service, body: event })).toEqual({ status: 202, body: { accepted: true } });
    expect(await server.api('/api/events', { token: service, body: event })).toEqual({ status: 200, body: { duplicate: true } });
    await new Promise((r) => setTimeout(r, 300));
    expect(await notificationsOf(server, 'gus', 1)).toHaveLength(1);

    const user = await server.token('gus');
    const refused = [
      [await server.api('/api/events', { token: user, body: { ...event, id: 'x1' } }), 403],
      [await server.api('/api/events', { body: { ...event, id: 'x2' } }), 401],
      [await server.api('/api/events', { token: service, body: { ...event, id: 'x3', type: 'job.exploded' } }), 400],
      [await server.api('/api/events', { token: service, body: { ...event, id: 'x4', subject: 'job' } }), 400],
      [await server.api('/api/events', { token: service, body: { ...event, id: 'x5', occurredAt: 'yesterday' } }), 400],
      [await server.api('/api/events', { token: service, body: { ...event, id: 'x6', extra: true } }), 400],
      [await server.api('/api/events', { token: service, body: { id: 'x7', type: 'job.started', occurredAt: Date.now(), subject: { type: 'job', id: 'unknown-job' } } }), 400],
      [await server.api('/api/events', { token: service, rawBody: '{"id": "x8",' }), 400],
    ] as const;
    for (const [response, status] of refused) {
      expect(response.status).toBe(status);
      expect(typeof response.body.error.code).toBe('string');
    }
    expect(refused[2][0].body.error.code).toBe('unknown_event_type');
    // Nothing was stored: the refused ids are still free.
    for (const id of ['x1', 'x3', 'x4', 'x7']) {
      expect((await server.api('/api/events', { token: service, body: { ...event, id } })).status).toBe(202);
    }
  });

  it('an event answered 202 and then kill -9 is applied exactly once after restart', async () => {
    const server = await start();
    const service = await server.token('shop', { roles: ['service'] });
    for (let round = 0; round < 3; round++) {
      const response = await server.api('/api/events', {
        token: service,
        body: { id: `crash-${round}`, type: 'payment.received', occurredAt: now(), subject: { type: 'payment', id: `p${round}` }, recipients: ['hal', 'ida'] },
      });
      expect(response.status).toBe(202);
      await server.kill();
      await server.restart();
      // Posting again after the restart is still a duplicate.
      expect((await server.api('/api/events', { token: service, body: { id: `crash-${round}`, type: 'payment.received', occurredAt: now(), subject: { type: 'payment', id: `p${round}` }, recipients: ['hal'] } })).body).toEqual({ duplicate: true });
    }
    for (const user of ['hal', 'ida']) {
      const list = await notificationsOf(server, user, 3);
      expect(list.map((n) => n.id).sort()).toEqual(['evt:crash-0', 'evt:crash-1', 'evt:crash-2']);
    }
  });

  it('1,000 events posted at once for 100 recipients land exactly; the API agrees with the inbox documents', async () => {
    const server = await start();
    const service = await server.token('shop', { roles: ['service'] });
    const users = Array.from({ length: 100 }, (_, i) => `u${i}`);
    const expected = new Map(users.map((u) => [u, new Set<string>()]));
    const posts = Array.from({ length: 1000 }, (_, i) => {
      const recipients = [users[i % 100]!, users[(i * 7 + 3) % 100]!].filter((u, k, a) => a.indexOf(u) === k);
      for (const r of recipients) expected.get(r)!.add(`evt:bulk-${i}`);
      return server.api('/api/events', { token: service, body: { id: `bulk-${i}`, type: 'job.started', occurredAt: Date.now(), subject: { type: 'job', id: `j${i}` }, recipients } });
    });
    const responses = await Promise.all(posts);
    expect(responses.every((r) => r.status === 202)).toBe(true);
    for (const user of users) {
      const list = await notificationsOf(server, user, expected.get(user)!.size, 30_000);
      expect(new Set(list.map((n) => n.id)), user).toEqual(expected.get(user));
    }
    for (const user of users.slice(0, 10)) {
      const client = await connectUser(server, user);
      try {
        const inbox = client.open(inboxDocName(user));
        await inbox.synced;
        const fromDoc = listNotifications(inbox.doc).map((n) => n.id);
        const fromApi = (await server.api('/api/notifications?limit=200', { token: await server.token(user) })).body.notifications.map((n: Notification) => n.id);
        expect(fromDoc).toEqual(fromApi);
      } finally {
        client.destroy();
      }
    }
  });

  it('clean-up removes exactly the old read and archived notifications, and is idempotent', async () => {
    const server = await start({ CLEANUP_MAX_AGE_DAYS: '0.00001' }); // under a second
    const service = await server.token('shop', { roles: ['service'] });
    const token = await server.token('joe');
    for (let i = 0; i < 4; i++) {
      await server.api('/api/events', { token: service, body: { id: `c${i}`, type: 'review.created', occurredAt: now(), subject: { type: 'review', id: `r${i}` }, recipients: ['joe'] } });
    }
    const list = await notificationsOf(server, 'joe', 4);
    expect(list).toHaveLength(4);
    await server.api(`/api/notifications/evt:c0/read`, { token, method: 'POST' });
    await server.api(`/api/notifications/evt:c1/archive`, { token, method: 'POST' });
    await new Promise((r) => setTimeout(r, 1500));
    await server.api(`/api/notifications/evt:c2/read`, { token, method: 'POST' }); // read just now: too young
    const admin = await server.token('root', { roles: ['admin'] });
    expect((await server.api('/api/admin/cleanup', { token, method: 'POST' })).status).toBe(403);
    const first = await server.api('/api/admin/cleanup', { token: admin, method: 'POST' });
    expect(first.body).toMatchObject({ notificationsRemoved: 2 });
    expect(first.body.eventsPruned).toBeGreaterThanOrEqual(4);
    const left = (await server.api('/api/notifications?archived=1', { token })).body.notifications.map((n: Notification) => n.id).sort();
    expect(left).toEqual(['evt:c2', 'evt:c3']);
    expect((await server.api('/api/admin/cleanup', { token: admin, method: 'POST' })).body).toMatchObject({ notificationsRemoved: 0, eventsPruned: 0 });
  });
});
