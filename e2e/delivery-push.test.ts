/**
 * Web Push escalation (CONTRACT 7, issue 10) against a real push service on
 * loopback (e2e/fixtures/pushService.ts: HTTPS, VAPID checked, aes128gcm
 * decrypted with the subscription's keys): pushed when offline and unread,
 * nothing when read in time or online, quiet hours hold, 410 prunes, 429 then
 * 201 delivers once, kill -9 before a send delivers once and during one sends a
 * copy that replaces it (same Topic and id),
 * and a hostile push service never stalls the queue.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { inboxDocName } from '@parley/schema';
import { startServer, type TestServer } from './fixtures/server';
import { connectUser, waitFor } from './fixtures/clients';
import { startPushService, type PushService } from './fixtures/pushService';

const PUSH_AFTER_MS = 400;
let push: PushService;
const servers: TestServer[] = [];

beforeAll(async () => {
  push = await startPushService();
});
afterAll(async () => {
  await push.close();
});
afterEach(async () => {
  for (const s of servers.splice(0)) await s.kill().catch(() => {});
});

async function start(env: Record<string, string> = {}) {
  const server = await startServer({
    env: { PUSH_AFTER_MS: String(PUSH_AFTER_MS), NODE_EXTRA_CA_CERTS: push.caFile, PUSH_ENDPOINT_HOSTS: push.host, DELIVERY_REQUEST_TIMEOUT_MS: '1500', ...env },
  });
  servers.push(server);
  return server;
}

async function subscribe(server: TestServer, userId: string, deviceId?: string) {
  const device = push.device(deviceId);
  const token = await server.token(userId);
  const answer = await server.api('/api/push/subscriptions', { token, body: device.subscription });
  expect(answer.status).toBe(201);
  return device;
}

let eventSeq = 0;
/** A business event that notifies `userId` (notification id `evt:<id>`). */
async function notify(server: TestServer, userId: string, type = 'review.created'): Promise<string> {
  const id = `e${++eventSeq}-${Math.random().toString(36).slice(2, 8)}`;
  const service = await server.token('shop', { roles: ['service'] });
  const answer = await server.api('/api/events', { token: service, body: { id, type, occurredAt: Date.now(), actor: 'sam', subject: { type: 'review', id }, recipients: [userId], data: { rating: 5 } } });
  expect(answer.status).toBe(202);
  return `evt:${id}`;
}

const receivedFor = (deviceId: string) => push.received.filter((r) => r.device === deviceId);
const requestsFor = (deviceId: string) => push.requests.filter((r) => r.device === deviceId);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function jobs(server: TestServer, query: string) {
  const admin = await server.token('root', { roles: ['admin'] });
  return (await server.api(`/api/admin/jobs?${query}`, { token: admin })).body.jobs as Array<{ state: string; lastError: string | null; runAt: number; data: unknown }>;
}

describe('Web Push to a real push service', () => {
  it('serves the VAPID public key, and pushes an unread notification to an offline user once, encrypted, with TTL, Urgency and Topic', async () => {
    const server = await start();
    const token = await server.token('ann');
    expect((await server.api('/api/push/vapid-public-key')).status).toBe(401);
    const { body } = await server.api('/api/push/vapid-public-key', { token });
    expect(Buffer.from(body.key, 'base64url').length).toBe(65);
    const device = await subscribe(server, 'ann');
    const sentAt = Date.now();
    const id = await notify(server, 'ann');
    await waitFor(() => receivedFor(device.id).length === 1, 10_000, 'the push');
    const [got] = receivedFor(device.id);
    expect(got!.at - sentAt).toBeGreaterThanOrEqual(PUSH_AFTER_MS - 50);
    expect(got!.payload).toMatchObject({ id, kind: 'new_review', title: 'You have a new review', url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/$/) });
    expect(typeof got!.payload.body).toBe('string');
    expect(got!.topic).toMatch(/^[A-Za-z0-9_-]{1,32}$/);
    expect(Number(got!.ttl)).toBeGreaterThan(0);
    expect(got!.urgency).toBe('normal');
    expect(push.refused).toEqual([]);
    await sleep(1500);
    expect(receivedFor(device.id).length).toBe(1);
    const metrics = await (await fetch(`${server.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/parley_deliveries_total\{channel="push",outcome="sent"\} 1/);
  });

  it('pushes nothing for a notification read in time, nor to a user who is online', async () => {
    const server = await start({ PUSH_AFTER_MS: '1500' });
    const reader = await subscribe(server, 'bea');
    const online = await subscribe(server, 'cid');
    const cid = await connectUser(server, 'cid');
    try {
      await cid.open(inboxDocName('cid')).synced;
      const id = await notify(server, 'bea');
      await notify(server, 'cid');
      const token = await server.token('bea');
      await waitFor(() => true);
      // Read through the API before PUSH_AFTER_MS is over.
      let marked = 0;
      while (marked !== 200) {
        marked = (await server.api(`/api/notifications/${encodeURIComponent(id)}/read`, { token, method: 'POST' })).status;
        if (marked !== 200) await sleep(50);
      }
      await sleep(3000);
      expect(requestsFor(reader.id)).toEqual([]);
      expect(requestsFor(online.id)).toEqual([]);
      const done = await jobs(server, 'queue=deliver.push&state=done');
      expect(done.length).toBe(2);
    } finally {
      cid.destroy();
    }
  });

  it('holds a push during quiet hours and schedules it for their end', async () => {
    const server = await start();
    const device = await subscribe(server, 'dee');
    const token = await server.token('dee');
    const now = new Date();
    const hhmm = (d: Date) => `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
    const from = hhmm(new Date(now.getTime() - 60_000));
    const end = hhmm(new Date(now.getTime() + 120_000));
    const prefs = await server.api('/api/notifications/preferences', { token, method: 'PUT', body: { quietHours: { start: from, end, tz: 'UTC' } } });
    expect(prefs.status).toBe(200);
    expect(prefs.body.quietHours).toEqual({ start: from, end, tz: 'UTC' });
    await notify(server, 'dee');
    await sleep(PUSH_AFTER_MS + 2500);
    expect(requestsFor(device.id)).toEqual([]);
    const waiting = await jobs(server, 'queue=deliver.push&state=queued');
    expect(waiting.length).toBe(1);
    const endAt = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), Number(end.slice(0, 2)), Number(end.slice(3)));
    // The end on the next day when it is past midnight UTC.
    expect([endAt, endAt + 86_400_000]).toContain(waiting[0]!.runAt);
    // Quiet hours in a zone the server does not know are refused.
    expect((await server.api('/api/notifications/preferences', { token, method: 'PUT', body: { quietHours: { start: from, end, tz: 'Mars/Olympus' } } })).status).toBe(400);
  });

  it('removes a subscription the push service answers 410 for, and sends it nothing more', async () => {
    const server = await start();
    const gone = await subscribe(server, 'eli');
    const kept = await subscribe(server, 'eli');
    push.script(gone.id, [{ status: 410, body: 'expired' }]);
    await notify(server, 'eli');
    await waitFor(() => requestsFor(gone.id).length === 1 && receivedFor(kept.id).length === 1, 10_000, 'both devices tried');
    const token = await server.token('eli');
    await waitFor(() => true);
    let removed = 0;
    for (let i = 0; i < 50 && removed !== 404; i++) {
      await sleep(100);
      removed = (await server.api('/api/push/subscriptions', { token, method: 'DELETE', body: { endpoint: gone.subscription.endpoint } })).status;
      // 200 would mean it was still there (and is gone now because of this call): the test then fails below.
      if (removed === 200) break;
    }
    expect(removed).toBe(404);
    await notify(server, 'eli');
    await waitFor(() => receivedFor(kept.id).length === 2, 10_000, 'second push');
    expect(requestsFor(gone.id).length).toBe(1);
  });

  it('429 with Retry-After, then 201: delivered once, after the wait', async () => {
    const server = await start();
    const device = await subscribe(server, 'fay');
    push.script(device.id, [{ status: 429, headers: { 'retry-after': '1' } }]);
    await notify(server, 'fay');
    await waitFor(() => receivedFor(device.id).length === 1, 15_000, 'the retried push');
    const [first, second] = requestsFor(device.id);
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(900);
    await sleep(2000);
    expect(receivedFor(device.id).length).toBe(1);
    expect(requestsFor(device.id).length).toBe(2);
    expect((await jobs(server, 'queue=deliver.push'))[0]!.state).toBe('done');
  });

  it('a redirect is not followed: the job is dead at once, with the reason', async () => {
    const server = await start();
    const device = await subscribe(server, 'gus');
    push.script(device.id, [{ status: 301, headers: { location: 'https://169.254.169.254/' } }]);
    await notify(server, 'gus');
    await waitFor(() => requestsFor(device.id).length === 1, 10_000, 'the push');
    let dead: Awaited<ReturnType<typeof jobs>> = [];
    await waitFor(() => dead.length === 1, 10_000, 'dead job').catch(() => {});
    for (let i = 0; i < 50 && dead.length === 0; i++) {
      await sleep(100);
      dead = await jobs(server, 'queue=deliver.push&state=dead');
    }
    expect(dead[0]!.lastError).toMatch(/301.*redirects are not followed/);
    expect(requestsFor(device.id).length).toBe(1);
  });

  it('kill -9 before the send: pushed exactly once after the restart', async () => {
    const server = await start({ PUSH_AFTER_MS: '1500' });
    const device = await subscribe(server, 'hal');
    await notify(server, 'hal');
    await server.kill();
    await server.restart();
    await waitFor(() => receivedFor(device.id).length === 1, 15_000, 'the push after restart');
    await sleep(2000);
    expect(receivedFor(device.id).length).toBe(1);
  });

  it('kill -9 during the send (the push service took it and had not answered): sent again after the restart, as a copy that replaces it (same Topic, same id)', async () => {
    const server = await start({ DELIVERY_REQUEST_TIMEOUT_MS: '30000' });
    const device = await subscribe(server, 'ivy');
    push.script(device.id, [{ hang: true }]);
    const id = await notify(server, 'ivy');
    await waitFor(() => receivedFor(device.id).length === 1, 10_000, 'the push taken in');
    await server.kill();
    await server.restart();
    await waitFor(() => receivedFor(device.id).length === 2, 15_000, 'the push sent again');
    await sleep(2000);
    const [first, copy] = receivedFor(device.id);
    expect(requestsFor(device.id).length).toBe(2);
    // The copy replaces the first at the push service (Topic) and on screen (the service worker's tag is the id).
    expect(copy!.topic).toBe(first!.topic);
    expect(copy!.payload.id).toBe(id);
    expect(first!.payload.id).toBe(id);
    const metrics = await (await fetch(`${server.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/parley_deliveries_total\{channel="push",outcome="sent"\} 1/);
    expect(metrics).not.toMatch(/outcome="uncertain"/);
    expect((await jobs(server, 'queue=deliver.push'))[0]!.state).toBe('done');
  });

  it('a hostile push service (no answer, a huge answer) costs a bounded time and holds back no other push', async () => {
    const server = await start();
    const slow = await subscribe(server, 'jon');
    const huge = await subscribe(server, 'kai');
    const fine = await subscribe(server, 'lee');
    push.script(slow.id, [{ hang: true }]);
    push.script(huge.id, [{ hugeBytes: 50 * 1024 * 1024 }]);
    await notify(server, 'jon');
    await notify(server, 'kai');
    const sentAt = Date.now();
    await notify(server, 'lee');
    await waitFor(() => receivedFor(fine.id).length === 1, 10_000, 'the good push');
    expect(Date.now() - sentAt).toBeLessThan(8000);
    // The silent one timed out (DELIVERY_REQUEST_TIMEOUT_MS) and was sent again after a backoff (a copy replaces it: same Topic).
    let done: Awaited<ReturnType<typeof jobs>> = [];
    for (let i = 0; i < 150 && done.length < 3; i++) {
      await sleep(100);
      done = await jobs(server, 'queue=deliver.push&state=done');
    }
    expect(done.length).toBe(3);
    expect(requestsFor(slow.id).length).toBe(2);
    expect(new Set(receivedFor(slow.id).map((r) => r.topic)).size).toBe(1);
    expect(requestsFor(huge.id).length).toBe(1);
  });

  it('pushes a chat notification to an offline member, with its conversation link; its versions share one Topic', async () => {
    const server = await start();
    const device = await subscribe(server, 'ned');
    const owner = await server.token('ora');
    const created = await server.api('/api/conversations', { token: owner, body: { members: ['ned'], title: 'Plans' } });
    const conversationId = created.body.id as string;
    for (const text of ['one', 'two', 'three']) {
      expect((await server.api(`/api/conversations/${conversationId}/messages`, { token: owner, body: { text } })).status).toBe(201);
    }
    await waitFor(() => receivedFor(device.id).some((r) => r.payload.body === 'three'), 15_000, 'the chat push');
    const pushes = receivedFor(device.id);
    expect(pushes.length).toBeLessThanOrEqual(3);
    expect(new Set(pushes.map((p) => p.topic)).size).toBe(1);
    const last = pushes[pushes.length - 1]!.payload;
    expect(last).toMatchObject({ kind: 'new_message', url: expect.stringMatching(new RegExp(`/c/${conversationId}$`)) });
    if (pushes.length === 1) expect(last.count).toBe(3);
  });

  it('refuses malformed subscriptions and endpoints that are not https on an allowed host', async () => {
    const server = await start();
    const token = await server.token('max');
    const good = push.device().subscription;
    const post = (body: unknown) => server.api('/api/push/subscriptions', { token, body });
    const refusals = [
      { ...good, endpoint: good.endpoint.replace('https:', 'http:') },
      { ...good, endpoint: `https://169.254.169.254/push/x` },
      { ...good, keys: { p256dh: 'short', auth: good.keys.auth } },
      { ...good, keys: { p256dh: good.keys.p256dh, auth: 'AAAA' } },
      { endpoint: good.endpoint },
      { ...good, extra: 1 },
    ];
    for (const body of refusals) {
      const answer = await post(body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.body.error.code).toBeTypeOf('string');
    }
    expect((await post(good)).status).toBe(201);
  });
});
