/**
 * Email digests (CONTRACT 7, issue 10) to a real SMTP server on loopback,
 * parsed with mailparser: one digest for many notifications, text and escaped
 * HTML, at most one per interval, nothing for what was read, the one-click
 * unsubscribe (RFC 8058) turning email off, kill -9 before the digest, and
 * contact details (PUT and the token's claim, `mailto:` refused) validated.
 * Digests are queued by the recurring sweep (DIGEST_SWEEP_MS).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mintToken, startServer, type TestServer } from './fixtures/server';
import { waitFor } from './fixtures/clients';
import { startSmtpPeer, type SmtpPeer } from './fixtures/smtpPeer';

let smtp: SmtpPeer;
const servers: TestServer[] = [];
beforeAll(async () => {
  smtp = await startSmtpPeer();
});
afterAll(async () => {
  await smtp.close();
});
afterEach(async () => {
  for (const s of servers.splice(0)) await s.kill().catch(() => {});
});

const INTERVAL_MS = 4000;
async function start(env: Record<string, string> = {}) {
  const server = await startServer({
    env: { SMTP_URL: smtp.url, EMAIL_FROM: 'Parley <parley@test.local>', EMAIL_AFTER_MS: '300', EMAIL_DIGEST_INTERVAL_MS: String(INTERVAL_MS), DIGEST_SWEEP_MS: '200', PUBLIC_URL: 'https://parley.test', ...env },
  });
  servers.push(server);
  return server;
}

let seq = 0;
async function announce(server: TestServer, userId: string, title: string, body = 'hello'): Promise<string> {
  const id = `m${++seq}-${Math.random().toString(36).slice(2, 8)}`;
  const service = await server.token('shop', { roles: ['service'] });
  const answer = await server.api('/api/events', { token: service, body: { id, type: 'system.announcement', occurredAt: Date.now(), subject: { type: 'news', id }, recipients: [userId], data: { title, body } } });
  expect(answer.status).toBe(202);
  return `evt:${id}`;
}

async function setEmail(server: TestServer, userId: string, email: unknown) {
  const service = await server.token('shop', { roles: ['service'] });
  return server.api(`/api/users/${userId}/contact`, { token: service, method: 'PUT', body: { email } });
}

const mailsTo = (address: string) => smtp.mails.filter((m) => m.envelopeTo.includes(address));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('email digests to a real SMTP server', () => {
  it('sends one digest for many notifications, text and escaped HTML, with a one-click unsubscribe that turns email off', async () => {
    const server = await start();
    expect((await setEmail(server, 'amy', 'amy@example.com')).status).toBe(200);
    await announce(server, 'amy', 'First <b>news</b>');
    await announce(server, 'amy', 'Second', '<script>alert(1)</script>');
    await announce(server, 'amy', 'Third');
    await waitFor(() => mailsTo('amy@example.com').length >= 1, 15_000, 'the digest');
    await sleep(1500);
    const mails = mailsTo('amy@example.com');
    expect(mails.length).toBe(1);
    // The digest was queued by the recurring sweep (item 8), which ran as jobs of its own.
    const admin = await server.token('root', { roles: ['admin'] });
    const jobsOf = async (queue: string) => (await server.api(`/api/admin/jobs?queue=${queue}&state=done`, { token: admin })).body.jobs as Array<{ key: string | null; data: unknown }>;
    expect((await jobsOf('email.digest-sweep')).length).toBeGreaterThan(0);
    expect((await jobsOf('email.digest')).map((j) => j.data)).toEqual([{ userId: 'amy' }]);
    const mail = mails[0]!;
    expect(mail.from?.text).toContain('parley@test.local');
    for (const title of ['First <b>news</b>', 'Second', 'Third']) expect(mail.text).toContain(title);
    expect(mail.text).toContain('https://parley.test/');
    const html = String(mail.html);
    expect(html).toContain('First &lt;b&gt;news&lt;/b&gt;');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).not.toContain('<script>');
    // Raw header lines (mailparser folds the List-* headers into one object).
    const header = (name: string) => mail.headerLines.find((h) => h.key === name)?.line.replace(/^[^:]+:\s*/, '').replace(/\r?\n\s+/g, '') ?? '';
    const listUnsubscribe = header('list-unsubscribe');
    expect(header('list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');
    const url = /<(https:\/\/parley\.test\/api\/email\/unsubscribe\/[^>]+)>/.exec(listUnsubscribe)?.[1];
    expect(url).toBeDefined();
    const path = new URL(url!).pathname;
    // A forged link is refused; the real one, POSTed as a mail client does, turns email off.
    const forged = await fetch(`${server.httpUrl}${path.slice(0, -3)}abc`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
    expect(forged.status).toBe(403);
    // A GET changes nothing (link scanners).
    expect((await fetch(`${server.httpUrl}${path}`)).status).toBe(200);
    const token = await server.token('amy');
    expect((await server.api('/api/notifications/preferences', { token })).body.channels.system?.email ?? true).toBe(true);
    const post = await fetch(`${server.httpUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
    expect(post.status).toBe(200);
    const prefs = (await server.api('/api/notifications/preferences', { token })).body;
    expect(prefs.channels.system.email).toBe(false);
    expect(prefs.channels.new_message.email).toBe(false);
    await announce(server, 'amy', 'After unsubscribing');
    await sleep(INTERVAL_MS + 2500);
    expect(mailsTo('amy@example.com').length).toBe(1);
  });

  it('at most one digest per interval; what was read in time is not mailed; the token claim gives the address', async () => {
    const server = await start();
    const bob = await mintToken(server.secret, 'bob', { claims: { email: 'bob@example.com' } });
    // The claim is kept when the token is used.
    expect((await server.api('/api/notifications/unread-count', { token: bob })).status).toBe(200);
    const read = await announce(server, 'bob', 'Read quickly');
    expect((await server.api(`/api/notifications/${encodeURIComponent(read)}/read`, { token: bob, method: 'POST' })).status).toBe(200);
    await announce(server, 'bob', 'One');
    await waitFor(() => mailsTo('bob@example.com').length === 1, 15_000, 'the first digest');
    const firstAt = Date.now();
    expect(mailsTo('bob@example.com')[0]!.text).not.toContain('Read quickly');
    await announce(server, 'bob', 'Two');
    await announce(server, 'bob', 'Three');
    await waitFor(() => mailsTo('bob@example.com').length === 2, INTERVAL_MS + 15_000, 'the second digest');
    expect(Date.now() - firstAt).toBeGreaterThanOrEqual(INTERVAL_MS - 1000);
    const second = mailsTo('bob@example.com')[1]!;
    expect(second.text).toContain('Two');
    expect(second.text).toContain('Three');
    expect(second.text).not.toContain('One\n');
  });

  it('kill -9 before the digest: mailed once after the restart, by the recurring sweep', async () => {
    const server = await start({ EMAIL_AFTER_MS: '1500' });
    expect((await setEmail(server, 'eve', 'eve@example.com')).status).toBe(200);
    await announce(server, 'eve', 'Survives a crash');
    await server.kill();
    await server.restart();
    await waitFor(() => mailsTo('eve@example.com').length === 1, 20_000, 'the digest after restart');
    await sleep(2000);
    expect(mailsTo('eve@example.com').length).toBe(1);
    expect(mailsTo('eve@example.com')[0]!.text).toContain('Survives a crash');
  });

  it('validates contact details: no mailto:, E.164 phones, service or admin only', async () => {
    const server = await start();
    const service = await server.token('shop', { roles: ['service'] });
    const put = (body: unknown, token = service) => server.api('/api/users/cat/contact', { token, method: 'PUT', body });
    for (const body of [{ email: 'mailto:cat@example.com' }, { email: 'MAILTO:cat@example.com' }, { email: 'not an address' }, { phone: '0612345678' }, { phone: '+0123' }, {}, { email: 'a@b.co', extra: 1 }]) {
      const answer = await put(body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.body.error.code).toBe('validation_failed');
    }
    expect((await put({ email: 'cat@example.com' }, await server.token('cat'))).status).toBe(403);
    const ok = await put({ email: 'cat@example.com', phone: '+14155550123' });
    expect(ok.status).toBe(200);
    expect(ok.body.contact).toEqual({ email: 'cat@example.com', phone: '+14155550123' });
    // A `mailto:` (or any non-address) in a token's claims: the token still works, the claim is not kept.
    const dan = await mintToken(server.secret, 'dan', { claims: { email: 'mailto:dan@example.com', phone_number: 'tel:+14155550100' } });
    expect((await server.api('/api/notifications/unread-count', { token: dan })).status).toBe(200);
    await sleep(300);
    const after = await server.api('/api/users/dan/contact', { token: service, method: 'PUT', body: { phone: null } });
    expect(after.status).toBe(200);
    expect(after.body.contact).toEqual({ email: null, phone: null });
    const good = await mintToken(server.secret, 'dan', { claims: { email: 'dan@example.com' } });
    expect((await server.api('/api/notifications/unread-count', { token: good })).status).toBe(200);
    await sleep(300);
    expect((await server.api('/api/users/dan/contact', { token: service, method: 'PUT', body: { phone: null } })).body.contact).toEqual({ email: 'dan@example.com', phone: null });
  });
});
