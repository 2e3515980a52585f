/**
 * The HTTP side attacked: oversized bodies written slowly, push endpoints that
 * point anywhere, missing security headers, `__proto__` ids, the dev login
 * reached through another host name, and request floods.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS } from '@parley/schema';
import { startServer, type TestServer } from './fixtures/server';
import { slowBodyRequest } from './fixtures/rawHttp';

let server: TestServer;
let alice: string;

beforeAll(async () => {
  server = await startServer();
  alice = await server.token('alice');
});

afterAll(async () => {
  await server?.stop();
});

describe('oversized bodies', () => {
  const over = DEFAULTS.httpBodyMaxBytes + 512 * 1024;

  it.each([
    ['a too-long Content-Length body', false],
    ['a chunked body that grows past the limit', true],
  ])('answers 413 to %s written slowly, and the client sees the answer, not a broken socket', async (_what, chunked) => {
    const outcome = await slowBodyRequest({
      port: server.port,
      path: '/api/conversations',
      headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/json' },
      bodyBytes: over,
      chunkBytes: 64 * 1024,
      pauseMs: 5,
      chunked,
    });
    expect({ error: outcome.error, status: outcome.status }).toEqual({ error: null, status: 413 });
    expect(outcome.response).toContain('payload_too_large');
  });

  it('still answers normally afterwards', async () => {
    expect((await server.api('/healthz')).status).toBe(200);
  });
});

interface RawRequest {
  port: number;
  path: string;
  method?: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** Loopback source address (127.0.0.0/8), so a test has an IP address of its own. */
  localAddress?: string;
}

/** node:http instead of fetch: the Host header and the source address are ours to choose. */
function rawRequest(options: RawRequest): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const payload = options.body === undefined ? '' : JSON.stringify(options.body);
    const headers = { ...(payload && { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) }), ...options.headers };
    const req = request({ host: '127.0.0.1', port: options.port, path: options.path, method: options.method ?? (payload ? 'POST' : 'GET'), headers, localAddress: options.localAddress }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

const withHost = (port: number, host: string, path: string, body: unknown) => rawRequest({ port, path, body, headers: { host } });

describe('push subscription endpoints', () => {
  const keys = { p256dh: 'BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM', auth: 'tBHItJI5svbpez7KI4CCXg' };
  const subscribe = (endpoint: string) => server.api('/api/push/subscriptions', { token: alice, body: { endpoint, keys } });

  it.each([
    'javascript:alert(1)',
    'file:///etc/passwd',
    'https://127.0.0.1/push',
    'https://localhost:8787/api/conversations',
    'https://[::1]/x',
    'http://fcm.googleapis.com/fcm/send/abc',
    'https://fcm.googleapis.com.evil.example/fcm/send/abc',
    'https://user:pw@fcm.googleapis.com/fcm/send/abc',
    'https://fcm.googleapis.com:8443/fcm/send/abc',
    'https://notify.windows.com/w/?token=abc',
    'https://169.254.169.254/latest/meta-data/',
  ])('refuses %s with 400', async (endpoint) => {
    const answer = await subscribe(endpoint);
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('validation_failed');
  });

  it.each([
    'https://fcm.googleapis.com/fcm/send/abc:def',
    'https://updates.push.services.mozilla.com/wpush/v2/gAAAA',
    'https://wns2-par02p.notify.windows.com/w/?token=BQYAAA',
    'https://web.push.apple.com/QGuQyavXutnMH',
  ])('stores the push service endpoint %s', async (endpoint) => {
    expect((await subscribe(endpoint)).status).toBe(201);
  });

  it(`keeps at most ${DEFAULTS.pushSubscriptionsMaxPerUser} subscriptions per user, dropping the oldest`, async () => {
    const token = await server.token('pusher');
    for (let i = 0; i <= DEFAULTS.pushSubscriptionsMaxPerUser; i++) {
      const answer = await server.api('/api/push/subscriptions', { token, body: { endpoint: `https://fcm.googleapis.com/fcm/send/device-${i}`, keys } });
      expect(answer.status).toBe(201);
    }
    // The first one is gone, the newest kept.
    expect((await server.api('/api/push/subscriptions', { method: 'DELETE', token, body: { endpoint: 'https://fcm.googleapis.com/fcm/send/device-0' } })).status).toBe(404);
    expect((await server.api('/api/push/subscriptions', { method: 'DELETE', token, body: { endpoint: 'https://fcm.googleapis.com/fcm/send/device-1' } })).status).toBe(200);
  });
});

describe('security headers', () => {
  it('sends CSP, nosniff, frame and referrer protection on the web app, the API and errors', async () => {
    for (const path of ['/', '/api/conversations', '/api/nothing-here', '/healthz']) {
      const response = await fetch(`${server.httpUrl}${path}`);
      const csp = response.headers.get('content-security-policy') ?? '';
      expect(csp, path).toContain("script-src 'self'");
      expect(csp, path).toContain("frame-ancestors 'none'");
      expect(response.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(response.headers.get('x-frame-options'), path).toBe('DENY');
      expect(response.headers.get('referrer-policy'), path).toBe('no-referrer');
    }
  });
});

describe('reserved ids', () => {
  it('refuses __proto__, constructor and prototype as ids everywhere, instead of accepting them and delivering nothing', async () => {
    for (const id of ['__proto__', 'constructor', 'prototype']) {
      const created = await server.api('/api/conversations', { token: alice, body: { members: [id], title: 'x' } });
      expect(created.status, id).toBe(400);
      expect((await server.api('/api/conversations', { token: await server.token(id) })).status, id).toBe(401);
      expect((await server.api('/api/dev/login', { body: { userId: id } })).status, id).toBe(400);
    }
  });
});

describe('the dev login', () => {
  it('answers loopback Host names only (no DNS rebinding)', async () => {
    expect((await withHost(server.port, `localhost:${server.port}`, '/api/dev/login', { userId: 'local' })).status).toBe(200);
    expect((await withHost(server.port, `127.0.0.1:${server.port}`, '/api/dev/login', { userId: 'local' })).status).toBe(200);
    expect((await withHost(server.port, `[::1]:${server.port}`, '/api/dev/login', { userId: 'local' })).status).toBe(200);
    for (const host of [`rebind.attacker.example:${server.port}`, 'attacker.example', `127.0.0.1.attacker.example:${server.port}`]) {
      const answer = await withHost(server.port, host, '/api/dev/login', { userId: 'victim' });
      expect(answer.status, host).toBe(403);
      expect(answer.body).not.toContain('token');
    }
  });
});

describe('with a configured key and tight limits', () => {
  let strict: TestServer;
  const window = 4_000;
  beforeAll(async () => {
    // DEV_LOGIN empty = unset: what an operator gets with JWT_SECRET and NODE_ENV unset.
    strict = await startServer({
      env: { NODE_ENV: '', DEV_LOGIN: '', PUSH_ENDPOINT_HOSTS: 'push.example.com:8443,*.push.example.org', HTTP_RATE_LIMIT_WINDOW_MS: String(window), HTTP_RATE_LIMIT_USER: '20', HTTP_RATE_LIMIT_IP: '10' },
    });
  });
  afterAll(async () => {
    await strict?.stop();
  });

  it('limits callers without a valid token by address', async () => {
    // From an address of its own, so nothing else this server answered counts here.
    const call = () => rawRequest({ port: strict.port, path: '/api/conversations', headers: { authorization: 'Bearer not-a-token' }, localAddress: '127.0.0.7' });
    const answers = await Promise.all(Array.from({ length: 15 }, call));
    expect(answers.filter((a) => a.status === 401).length).toBe(10);
    expect(answers.filter((a) => a.status === 429).length).toBe(5);
  });

  it('has no dev login when a real JWT_SECRET is configured, even with NODE_ENV unset', async () => {
    expect((await strict.api('/api/dev/login', { body: { userId: 'mallory', roles: ['admin'] } })).status).toBe(404);
  });

  it('follows PUSH_ENDPOINT_HOSTS', async () => {
    const token = await strict.token('pat');
    const keys = { p256dh: 'BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM', auth: 'tBHItJI5svbpez7KI4CCXg' };
    const subscribe = (endpoint: string) => strict.api('/api/push/subscriptions', { token, body: { endpoint, keys } });
    expect((await subscribe('https://push.example.com:8443/s/1')).status).toBe(201);
    expect((await subscribe('https://a.b.push.example.org/s/1')).status).toBe(201);
    expect((await subscribe('https://push.example.com/s/1')).status).toBe(400);
    expect((await subscribe('https://push.example.org/s/1')).status).toBe(400);
    expect((await subscribe('https://fcm.googleapis.com/fcm/send/abc')).status).toBe(400);
  });

  it('answers 429 with the error body and Retry-After past the per-user limit; other users and /healthz are not held back', async () => {
    const token = await strict.token('flooder');
    const answers = await Promise.all(Array.from({ length: 30 }, () => fetch(`${strict.httpUrl}/api/conversations`, { headers: { authorization: `Bearer ${token}` } })));
    const limited = answers.filter((a) => a.status === 429);
    expect(answers.filter((a) => a.status === 200).length).toBe(20);
    expect(limited.length).toBe(10);
    const retryAfter = Number(limited[0]!.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(window / 1000);
    expect(await limited[0]!.json()).toMatchObject({ error: { code: 'rate_limited', message: expect.any(String) } });
    expect((await strict.api('/api/conversations', { token: await strict.token('bystander') })).status).toBe(200);
    expect((await strict.api('/healthz')).status).toBe(200);
  });

});
