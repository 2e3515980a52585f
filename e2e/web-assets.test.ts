import { request } from 'node:http';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAppServer } from './fixtures/browser';
import type { TestServer } from './fixtures/server';

/**
 * Issue 12 item 11: the built app is sent precompressed (brotli or gzip, as
 * the browser accepts), hashed assets are cached for a year as immutable,
 * and index.html (and the client-side routes that fall back to it) is
 * revalidated on every load.
 */
let server: TestServer;
beforeAll(async () => {
  server = await startAppServer();
}, 120_000);
afterAll(async () => {
  await server?.stop();
});

function get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  const url = new URL(path, server.httpUrl);
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function mainScript(): Promise<string> {
  const html = (await get('/')).body.toString();
  const src = /<script[^>]+src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
  expect(src, 'index.html names a hashed script').toBeTruthy();
  return src!;
}

describe('web app assets', () => {
  it('the main script comes as brotli or gzip on request, identical once decoded, cached as immutable', async () => {
    const src = await mainScript();
    const plain = await get(src, { 'accept-encoding': 'identity' });
    expect(plain.status).toBe(200);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.headers['cache-control']).toBe('public, max-age=31536000, immutable');

    const br = await get(src, { 'accept-encoding': 'gzip, deflate, br' });
    expect(br.status).toBe(200);
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(String(br.headers['vary']).toLowerCase()).toContain('accept-encoding');
    expect(br.headers['content-type']).toMatch(/javascript/);
    expect(brotliDecompressSync(br.body).equals(plain.body)).toBe(true);
    // About a third of the raw size, or better.
    expect(br.body.length).toBeLessThan(plain.body.length * 0.4);

    const gz = await get(src, { 'accept-encoding': 'gzip' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gz.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(gunzipSync(gz.body).equals(plain.body)).toBe(true);
  });

  it('index.html, client-side routes and the service worker revalidate', async () => {
    for (const path of ['/', '/index.html', '/c/some-conversation', '/sw.js']) {
      const response = await get(path, { 'accept-encoding': 'br, gzip' });
      expect(response.status, path).toBe(200);
      expect(response.headers['cache-control'], path).toBe('no-cache');
    }
    const html = await get('/', { 'accept-encoding': 'br' });
    expect(html.headers['content-type']).toMatch(/text\/html/);
  });
});
