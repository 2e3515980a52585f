/**
 * SMS (CONTRACT 7, issue 10) through the signed webhook, to a real receiver
 * on loopback that checks the HMAC: only kinds whose SMS channel is on, to a
 * known number, once, retried after a 5xx.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from './fixtures/server';
import { waitFor } from './fixtures/clients';
import { startWebhookReceiver, type WebhookReceiver } from './fixtures/webhookReceiver';

let hook: WebhookReceiver;
const servers: TestServer[] = [];
beforeAll(async () => {
  hook = await startWebhookReceiver();
});
afterAll(async () => {
  await hook.close();
});
afterEach(async () => {
  for (const s of servers.splice(0)) await s.kill().catch(() => {});
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('SMS through the signed webhook', () => {
  it('texts a kind whose SMS channel is on, once, after a 5xx; other kinds and users without a number get nothing', async () => {
    const server = await startServer({ env: { SMS_WEBHOOK_URL: hook.url, SMS_WEBHOOK_SECRET: hook.secret, SMS_AFTER_MS: '300', PUBLIC_URL: 'https://parley.test' } });
    servers.push(server);
    const service = await server.token('shop', { roles: ['service'] });
    expect((await server.api('/api/users/pam/contact', { token: service, method: 'PUT', body: { phone: '+14155550123' } })).status).toBe(200);
    const pam = await server.token('pam');
    const prefs = await server.api('/api/notifications/preferences', { token: pam, method: 'PUT', body: { channels: { payment_failed: { inApp: true, push: true, email: true, sms: true } } } });
    expect(prefs.status).toBe(200);
    expect(prefs.body.channels.payment_failed.sms).toBe(true);
    hook.script([503]);
    const event = (id: string, type: string, recipients: string[]) =>
      server.api('/api/events', { token: service, body: { id, type, occurredAt: Date.now(), subject: { type: 'payment', id }, recipients, data: { amount: '12 EUR' } } });
    expect((await event('pay-1', 'payment.failed', ['pam'])).status).toBe(202);
    expect((await event('pay-2', 'payment.received', ['pam'])).status).toBe(202);
    await waitFor(() => hook.accepted.length === 1, 15_000, 'the SMS');
    await sleep(2500);
    expect(hook.accepted.length).toBe(1);
    expect(hook.badSignatures).toBe(0);
    const [sms] = hook.accepted;
    expect(sms!.to).toBe('+14155550123');
    expect(sms!.id).toMatch(/^evt:pay-1@\d+$/);
    expect(sms!.text).toContain('Payment failed');
    expect(sms!.text).toContain('https://parley.test/');
    const metrics = await (await fetch(`${server.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/parley_deliveries_total\{channel="sms",outcome="retry"\} 1/);
    expect(metrics).toMatch(/parley_deliveries_total\{channel="sms",outcome="sent"\} 1/);
  });

  it('refuses to start with a webhook URL but no secret', async () => {
    await expect(startServer({ env: { SMS_WEBHOOK_URL: hook.url } })).rejects.toThrow(/SMS_WEBHOOK_SECRET/);
  });
});
