/**
 * The HTTP side attacked: oversized bodies written slowly, push endpoints that
 * point anywhere, missing security headers, `__proto__` ids, the dev login
 * reached through another host name, and request floods.
 */
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
