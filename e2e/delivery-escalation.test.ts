/**
 * The escalation rules across every channel at once (CONTRACT 7, issue 10),
 * with all three real peers on loopback (the HTTPS push service that checks
 * VAPID and decrypts, the SMTP server whose mail is parsed, the webhook
 * receiver that checks the signature): quiet hours hold push, the digest and
 * SMS, and each is released once when they end; a muted conversation sends
 * nothing on any channel, while a mention in it still goes everywhere.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from './fixtures/server';
import { waitFor } from './fixtures/clients';
import { startPushService, type PushService } from './fixtures/pushService';
import { startSmtpPeer, type SmtpPeer } from './fixtures/smtpPeer';
import { startWebhookReceiver, type WebhookReceiver } from './fixtures/webhookReceiver';

let push: PushService;
let smtp: SmtpPeer;
let hook: WebhookReceiver;
const servers: TestServer[] = [];

beforeAll(async () => {
  [push, smtp, hook] = await Promise.all([startPushService(), startSmtpPeer(), startWebhookReceiver()]);
});
afterAll(async () => {
  await Promise.all([push.close(), smtp.close(), hook.close()]);
});
afterEach(async () => {
  for (const s of servers.splice(0)) await s.kill().catch(() => {});
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** waitFor for a condition that has to ask the server. */
async function until(condition: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const start = Date.now();
  while (!(await condition())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}
const ALL_ON = { inApp: true, push: true, email: true, sms: true };

/** A server with push, email and SMS, each step `afterMs` after a notification version. */
async function start(afterMs: number) {
  const server = await startServer({
    env: {
      NODE_EXTRA_CA_CERTS: push.caFile,
      PUSH_ENDPOINT_HOSTS: push.host,
      SMTP_URL: smtp.url,
      SMS_WEBHOOK_URL: hook.url,
      SMS_WEBHOOK_SECRET: hook.secret,
      PUSH_AFTER_MS: String(afterMs),
      EMAIL_AFTER_MS: String(afterMs),
      SMS_AFTER_MS: String(afterMs),
      EMAIL_DIGEST_INTERVAL_MS: '0',
      DIGEST_SWEEP_MS: '200',
      PUBLIC_URL: 'https://parley.test',
    },
  });
  servers.push(server);
  return server;
}

/** A user reachable everywhere: a push device, an address, a phone number. */
async function reachable(server: TestServer, userId: string, phone: string) {
  const device = push.device();
  const token = await server.token(userId);
  expect((await server.api('/api/push/subscriptions', { token, body: device.subscription })).status).toBe(201);
  const service = await server.token('shop', { roles: ['service'] });
  expect((await server.api(`/api/users/${userId}/contact`, { token: service, method: 'PUT', body: { email: `${userId}@example.com`, phone } })).status).toBe(200);
  return { device, token, email: `${userId}@example.com`, phone };
}

/** The wall clock of `tz` at `at`, as quiet hours name it. */
function localHhmm(tz: string, at: number): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone: tz, hourCycle: 'h23', hour: '2-digit', minute: '2-digit' }).format(new Date(at));
}

async function metricsOf(server: TestServer): Promise<string> {
  return (await fetch(`${server.httpUrl}/metrics`)).text();
}

describe('escalation across push, email and SMS', () => {
  it('quiet hours hold the push, the digest and the SMS, and release each once when they end', { timeout: 150_000 }, async () => {
    const server = await start(300);
    const tz = 'Asia/Kolkata'; // UTC+05:30: the window is read on the zone's wall clock, not UTC's.
    const user = await reachable(server, 'qin', '+14155550101');
    // Quiet hours are whole minutes: a window from this local minute to the next ends at the next
    // minute boundary. Start 10-22 s before it, so every step falls inside and the wait stays short.
    while (new Date().getSeconds() < 38 || new Date().getSeconds() > 50) await sleep(250);
    const now = Date.now();
    const windowEnd = Math.ceil(now / 60_000) * 60_000;
    const quietHours = { start: localHhmm(tz, now), end: localHhmm(tz, windowEnd), tz };
    const prefs = await server.api('/api/notifications/preferences', { token: user.token, method: 'PUT', body: { quietHours, channels: { system: ALL_ON } } });
    expect(prefs.status).toBe(200);
    expect(prefs.body.quietHours).toEqual(quietHours);
    const service = await server.token('shop', { roles: ['service'] });
    const eventId = `quiet-${Math.random().toString(36).slice(2, 8)}`;
    const event = { id: eventId, type: 'system.announcement', occurredAt: Date.now(), subject: { type: 'news', id: eventId }, recipients: ['qin'], data: { title: 'Held until morning', body: 'quiet please' } };
    expect((await server.api('/api/events', { token: service, body: event })).status).toBe(202);

    const pushes = () => push.received.filter((r) => r.device === user.device.id);
    const mails = () => smtp.mails.filter((m) => m.envelopeTo.includes(user.email));
    const texts = () => hook.accepted.filter((s) => s.to === user.phone);
    // Inside the window: every step ran (and waited), nothing went out.
    await sleep(Math.max(0, windowEnd - Date.now() - 1000));
    expect(push.requests.filter((r) => r.device === user.device.id)).toEqual([]);
    expect(mails()).toEqual([]);
    expect(texts()).toEqual([]);
    const metrics = await metricsOf(server);
    expect(metrics).toMatch(/parley_delivery_steps_total\{channel="push",decision="quiet"\} [1-9]/);
    expect(metrics).toMatch(/parley_delivery_steps_total\{channel="sms",decision="quiet"\} [1-9]/);

    // After it: each channel once, none before the end.
    await waitFor(() => pushes().length === 1 && mails().length === 1 && texts().length === 1, 20_000, 'push, digest and SMS after the quiet hours');
    expect(pushes()[0]!.at).toBeGreaterThanOrEqual(windowEnd);
    expect(mails()[0]!.receivedAt).toBeGreaterThanOrEqual(windowEnd);
    expect(texts()[0]!.at).toBeGreaterThanOrEqual(windowEnd);
    expect(pushes()[0]!.payload).toMatchObject({ id: `evt:${eventId}`, title: 'Held until morning' });
    expect(mails()[0]!.text).toContain('Held until morning');
    expect(texts()[0]!.id).toMatch(new RegExp(`^evt:${eventId}@\\d+$`));
    await sleep(2500);
    expect(pushes().length).toBe(1);
    expect(mails().length).toBe(1);
    expect(texts().length).toBe(1);
  });

  it('a muted conversation sends nothing on push, email or SMS; a mention in it still goes to all three', { timeout: 90_000 }, async () => {
    const server = await start(2000);
    const user = await reachable(server, 'mia', '+14155550102');
    expect((await server.api('/api/notifications/preferences', { token: user.token, method: 'PUT', body: { channels: { new_message: ALL_ON, mention: ALL_ON } } })).status).toBe(200);
    const owner = await server.token('oli');
    const created = await server.api('/api/conversations', { token: owner, body: { members: ['mia'], title: 'Loud room' } });
    const conversationId = created.body.id as string;
    const listed = async () => (await server.api('/api/notifications', { token: user.token })).body.notifications as Array<{ kind: string; count: number }>;
    expect((await server.api(`/api/conversations/${conversationId}/messages`, { token: owner, body: { text: 'before the mute' } })).status).toBe(201);
    await until(async () => (await listed()).some((n) => n.kind === 'new_message'), 10_000, 'the chat notification');
    expect((await server.api(`/api/conversations/${conversationId}/messages`, { token: owner, body: { text: 'hey @mia, look', mentions: ['mia'] } })).status).toBe(201);
    // Both exist, with their steps queued (the chat one in its second version), before the mute: the steps
    // themselves, when they run, must hold the chat notification back and let the mention through.
    await until(async () => (await listed()).some((n) => n.kind === 'mention') && (await listed()).some((n) => n.kind === 'new_message' && n.count === 2), 10_000, 'the mention and the updated chat notification');
    const muted = await server.api('/api/notifications/preferences', { token: user.token, method: 'PUT', body: { muted: { [conversationId]: Date.now() + 3_600_000 } } });
    expect(muted.status).toBe(200);

    const pushes = () => push.received.filter((r) => r.device === user.device.id);
    const mails = () => smtp.mails.filter((m) => m.envelopeTo.includes(user.email));
    const texts = () => hook.accepted.filter((s) => s.to === user.phone);
    await waitFor(() => pushes().length >= 1 && mails().length >= 1 && texts().length >= 1, 20_000, 'the mention on every channel');
    // The muted notification's steps ran too (they were due about when the mention's were).
    await until(async () => /parley_delivery_steps_total\{channel="sms",decision="muted"\} [1-9]/.test(await metricsOf(server)), 10_000, 'the muted steps');
    await sleep(2500);
    expect(pushes().map((p) => p.payload.kind)).toEqual(['mention']);
    expect(mails().length).toBe(1);
    // One item, the mention (the chat notification quotes the same latest text, so count the items).
    expect((String(mails()[0]!.text).match(/^\* /gm) ?? []).length).toBe(1);
    expect(mails()[0]!.text).toContain('hey @mia, look');
    expect(texts().map((t) => t.id.split('@')[0]!.split(':')[0])).toEqual(['mention']);
    const metrics = await metricsOf(server);
    for (const channel of ['push', 'email', 'sms']) expect(metrics).toMatch(new RegExp(`parley_delivery_steps_total\\{channel="${channel}",decision="muted"\\} [1-9]`));
  });
});
