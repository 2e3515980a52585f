/**
 * GET /api/search (issue 9, item 3; CONTRACT section 4) on a real server:
 * words and prefixes, best match first, HTML-safe snippets, only the caller's
 * current conversations, deleted messages never match, edits re-indexed,
 * cursors, and the contract's errors for bad input (never a 500).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS } from '@parley/schema';
import { startServer, type TestServer } from './fixtures/server';
import { createConversation } from './fixtures/clients';
import { seedHistory } from './fixtures/bulkHistory';

let server: TestServer;
let room: string;
let other: string;
const tokens: Record<string, string> = {};

const search = (user: string, query: Record<string, string>) => server.api(`/api/search?${new URLSearchParams(query)}`, { token: tokens[user] });
const send = (user: string, conversationId: string, id: string, text: string) =>
  server.api(`/api/conversations/${conversationId}/messages`, { token: tokens[user], body: { id, text } });
const found = (body: { results: Array<{ message: { id: string } }> }) => body.results.map((r) => r.message.id);

beforeAll(async () => {
  server = await startServer();
  for (const user of ['sa', 'sb', 'sc']) tokens[user] = await server.token(user);
  room = await createConversation(server, 'sa', ['sb']);
  other = await createConversation(server, 'sc', ['sa']);
  // A haystack: thousands of messages that do not match, in the same conversation.
  await seedHistory(server, room, 'sa', 3_000, { text: (i) => `routine status update number ${i}`, idPrefix: 'hay' });
  await send('sa', room, 'pipe1', 'the plumbing under the sink is leaking');
  await send('sb', room, 'pipe2', 'leak leak leak');
  await send('sb', room, 'pipe3', 'a very long message about the garden, the weather, the car, lunch, and somewhere at the end a leak');
  await send('sc', other, 'elsewhere', 'a leak in the other conversation');
}, 120_000);
afterAll(async () => {
  await server?.stop();
});

describe('search', () => {
  it('finds words and prefixes, best match first, with the match marked', async () => {
    const leak = await search('sb', { q: 'leak' });
    expect(leak.status).toBe(200);
    // bm25: the short message made of the word ranks above the long one that mentions it once.
    expect(found(leak.body)).toEqual(['pipe2', 'pipe1', 'pipe3']);
    expect(leak.body.results[0]).toMatchObject({ conversationId: room, message: { id: 'pipe2', author: 'sb', text: 'leak leak leak', reactions: {} } });
    expect(Object.keys(leak.body.results[0].message).sort()).toEqual(['author', 'createdAt', 'id', 'kind', 'reactions', 'text']);
    expect(leak.body.results[0].snippet).toBe('<mark>leak</mark> <mark>leak</mark> <mark>leak</mark>');
    expect(found((await search('sb', { q: 'plumb' })).body)).toEqual(['pipe1']);
    expect(found((await search('sb', { q: 'LEAK sink' })).body)).toEqual(['pipe1']);
    expect((await search('sb', { q: 'nothingmatchesthis' })).body).toEqual({ results: [], nextCursor: null });
    // The haystack is searchable too, by prefix.
    expect(found((await search('sb', { q: 'number 2999' })).body)).toEqual(['hay2999']);
  });

  it('makes snippets safe to set as HTML', async () => {
    await send('sa', room, 'html', '<img src=x onerror=alert(1)> & "quoted" \u0001stray marker\u0002 leaky');
    const answer = await search('sa', { q: 'onerror' });
    expect(answer.body.results[0].snippet).toBe('&lt;img src=x <mark>onerror</mark>=alert(1)&gt; &amp; &quot;quoted&quot; <mark>stray marker</mark> leaky');
    // Whatever the text, no markup but <mark> survives.
    expect(answer.body.results[0].snippet.replace(/<\/?mark>/g, '')).not.toMatch(/[<>]/);
  });

  it('searches only the caller’s current conversations', async () => {
    expect(found((await search('sa', { q: 'leak' })).body).sort()).toEqual(['elsewhere', 'html', 'pipe1', 'pipe2', 'pipe3']); // 'html' says "leaky": a prefix match
    expect(found((await search('sb', { q: 'leak' })).body)).not.toContain('elsewhere');
    expect(found((await search('sa', { q: 'leak', conversationId: other })).body)).toEqual(['elsewhere']);
    expect((await search('sb', { q: 'leak', conversationId: other })).status).toBe(403);
    expect((await search('sb', { q: 'leak', conversationId: 'no-such-room' })).status).toBe(404);
    // sa leaves the other conversation: its messages no longer match for sa.
    const left = await server.api(`/api/conversations/${other}/members/sa`, { token: tokens.sa, method: 'DELETE' });
    expect(left.status).toBe(200);
    expect(found((await search('sa', { q: 'leak' })).body)).not.toContain('elsewhere');
    expect((await search('sa', { q: 'leak', conversationId: other })).status).toBe(403);
  });

  it('never matches deleted messages, and matches an edit by its new text only', async () => {
    await send('sb', room, 'gone', 'ephemeral zebra');
    await send('sb', room, 'changed', 'original aardvark');
    expect(found((await search('sa', { q: 'zebra' })).body)).toEqual(['gone']);
    expect((await server.api(`/api/conversations/${room}/messages/gone`, { token: tokens.sb, method: 'DELETE' })).status).toBe(200);
    expect(found((await search('sa', { q: 'zebra' })).body)).toEqual([]);
    expect(found((await search('sa', { q: 'ephemeral' })).body)).toEqual([]);
    const edit = await server.api(`/api/conversations/${room}/messages/changed`, { token: tokens.sb, method: 'PATCH', body: { text: 'revised okapi' } });
    expect(edit.status).toBe(200);
    expect(found((await search('sa', { q: 'aardvark' })).body)).toEqual([]);
    expect(found((await search('sa', { q: 'okapi' })).body)).toEqual(['changed']);
    expect((await search('sa', { q: 'okapi' })).body.results[0].message.editedAt).toEqual(expect.any(Number));
  });

  it('pages with a cursor: every match once, in rank order', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const answer = await search('sb', { q: 'routine', limit: '50', ...(cursor && { cursor }) });
      expect(answer.status).toBe(200);
      seen.push(...found(answer.body));
      cursor = answer.body.nextCursor;
      pages++;
    } while (cursor && pages < 100);
    expect(seen).toHaveLength(3_000);
    expect(new Set(seen).size).toBe(3_000);
  });

  it('answers FTS syntax as plain words, and bad input with the contract 400, never a 500', async () => {
    for (const q of ['"leak', 'leak*', 'leak AND', 'NEAR(leak sink)', 'text:leak', '^leak', '-leak', 'leak OR sink', "l'eak", '(leak)']) {
      const answer = await search('sb', { q });
      expect(answer.status, q).toBe(200);
      expect(Array.isArray(answer.body.results), q).toBe(true);
    }
    expect(found((await search('sb', { q: 'NEAR(leak sink)' })).body)).toEqual([]); // "near" is a word here, not an operator
    const first = await search('sb', { q: 'routine', limit: '5' });
    const bad: Array<Record<string, string>> = [
      { q: '' },
      { q: '   ' },
      { q: '"*():^' },
      { q: 'x'.repeat(DEFAULTS.searchQueryMaxLength + 1) },
      { q: 'leak', limit: String(DEFAULTS.searchPageMax + 1) },
      { q: 'leak', limit: '0' },
      { q: 'leak', limit: '99999999999999' },
      { q: 'leak', cursor: 'garbage' },
      { q: 'leak', cursor: Buffer.from('[1,2,"x"]').toString('base64url') },
      { q: 'leak', cursor: first.body.nextCursor },
      { q: 'leak', conversationId: 'not an id' },
      { q: 'leak', page: '2' },
      // issue 9 gaps: control characters, symbols only, cursors that are not ours
      { q: '\u0000\u0001\u0002' },
      { q: '😀 ✨' },
      { q: 'leak', cursor: 'x'.repeat(5_000) },
      { q: 'leak', cursor: Buffer.from('{"rank":"x"}').toString('base64url') },
      { q: 'leak', limit: '-1' },
      { q: 'leak', limit: '1e3' },
    ];
    for (const query of bad) {
      const answer = await search('sb', query);
      expect(answer.status, JSON.stringify(query)).toBe(400);
      expect(answer.body.error.code).toEqual(expect.any(String));
    }
    expect((await server.api('/api/search?q=leak')).status).toBe(401);
  });
});
