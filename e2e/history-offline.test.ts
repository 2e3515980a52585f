/**
 * The SDK's offline history (issue 9): pages of older history a user has
 * seen are cached in IndexedDB (fake-indexeddb here) and served when the
 * server cannot be reached; changes to old messages made meanwhile are queued
 * durably (they survive a "reload": a new outbox on the same database) and
 * land exactly once when the server is back. Real server, real HTTP.
 */
import 'fake-indexeddb/auto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message } from '@parley/schema';
import { startServer, type TestServer } from './fixtures/server';
import { seedHistory } from './fixtures/bulkHistory';
import { ApiClient } from '../client/src/sdk/ApiClient';
import { TokenSource } from '../client/src/sdk/TokenSource';
import { HistoryCache, HistoryUnavailable } from '../client/src/sdk/HistoryCache';
import { OutsideWindowOutbox, type OutboxRejection } from '../client/src/sdk/OutsideWindowOutbox';

let server: TestServer;
let conversationId: string;
beforeAll(async () => {
  server = await startServer();
  const created = await server.api('/api/conversations', { token: await server.token('alice'), body: { members: ['bob'], title: 'Long' } });
  conversationId = created.body.id;
  await seedHistory(server, conversationId, 'alice', 400);
}, 60_000);
afterAll(async () => {
  await server?.stop();
});

function apiFor(userId: string): ApiClient {
  const tokens = new TokenSource(async () => ({ token: await server.token(userId), userId, name: userId, expiresAt: Date.now() + 3600_000 }));
  return new ApiClient(server.httpUrl, tokens);
}

/** Message `m<n>` as the server has it: the one page entry just before `m<n+1>`. */
async function serverMessage(id: string): Promise<Message> {
  const next = `m${Number(id.slice(1)) + 1}`;
  const page = await server.api(`/api/conversations/${conversationId}/messages?before=${next}&limit=1`, { token: await server.token('alice') });
  expect(page.body.messages[0]?.id).toBe(id);
  return page.body.messages[0];
}

describe('offline history in the SDK', () => {
  it('serves the pages seen before offline, queues old-message changes durably, sends them once when back', async () => {
    const api = apiFor('alice');
    const prefix = `history-offline-${Date.now()}`;
    const cache = new HistoryCache(`${prefix}:history`, true, (c, before, limit) => api.history(c, before, limit));
    // Online: scroll back three pages, as the app does (first before the oldest live message, then by cursor).
    const online = [await cache.load(conversationId, 'm301', 50)];
    for (let i = 0; i < 2; i++) online.push(await cache.load(conversationId, online.at(-1)!.nextCursor!, 50));
    expect(online.every((p) => p.source === 'server')).toBe(true);
    expect(online[2]!.messages.at(-1)!.id).toBe('m151');

    await server.stop(); // offline: nothing answers on the port
    const again = [await cache.load(conversationId, 'm301', 50)];
    for (let i = 0; i < 2; i++) again.push(await cache.load(conversationId, again.at(-1)!.nextCursor!, 50));
    expect(again.map((p) => p.source)).toEqual(['cache', 'cache', 'cache']);
    expect(again.map((p) => p.messages.map((m) => m.id))).toEqual(online.map((p) => p.messages.map((m) => m.id)));
    // Past the part seen online: a clear "not cached", not a hang or a wrong page.
    await expect(cache.load(conversationId, again[2]!.nextCursor!, 50)).rejects.toBeInstanceOf(HistoryUnavailable);

    // Changes to old messages, offline: queued on disk.
    const rejections: OutboxRejection[] = [];
    const outbox = new OutsideWindowOutbox(`${prefix}:outbox`, true, api, { onRejected: (r) => rejections.push(r) });
    await outbox.enqueue(conversationId, 'm160', { op: 'edit', text: 'first try' });
    await outbox.enqueue(conversationId, 'm160', { op: 'edit', text: 'edited offline' }); // the last edit wins
    await outbox.enqueue(conversationId, 'm170', { op: 'reaction', emoji: '👍', on: true });
    await outbox.enqueue(conversationId, 'm180', { op: 'delete' });
    await cache.patch(conversationId, 'm160', (m) => ({ ...m, text: 'edited offline' }));
    await outbox.flush(); // fails: offline; everything stays
    expect((await outbox.pending()).map((p) => p.messageId)).toEqual(['m160', 'm170', 'm180']);
    // The queued edit shows in the cached page offline.
    expect((await cache.load(conversationId, online[1]!.nextCursor!, 50)).messages.find((m) => m.id === 'm160')?.text).toBe('edited offline');
    await outbox.close();

    // A reload: a new outbox on the same database finds the queue; the server comes back.
    await server.restart();
    const reloaded = new OutsideWindowOutbox(`${prefix}:outbox`, true, api, { onRejected: (r) => rejections.push(r) });
    expect(await reloaded.pending()).toHaveLength(3);
    await reloaded.flush();
    expect(await reloaded.pending()).toEqual([]);
    const edited = await serverMessage('m160');
    expect(edited).toMatchObject({ id: 'm160', text: 'edited offline' });
    expect((await serverMessage('m170')).reactions).toHaveProperty(['alice:👍']);
    expect((await serverMessage('m180')).deletedAt).toBeTypeOf('number');
    // Sending again (a lost answer, a second tab) changes nothing: exactly once in effect.
    await reloaded.enqueue(conversationId, 'm160', { op: 'edit', text: 'edited offline' });
    await reloaded.flush();
    expect((await serverMessage('m160')).editedAt).toBe(edited.editedAt);
    expect(rejections).toEqual([]);

    // A change the server refuses (not the author) is dropped and reported, not retried forever.
    const bob = new OutsideWindowOutbox(`${prefix}:bob-outbox`, true, apiFor('bob'), { onRejected: (r) => rejections.push(r) });
    await bob.enqueue(conversationId, 'm190', { op: 'edit', text: 'not mine' });
    await bob.flush();
    expect(await bob.pending()).toEqual([]);
    expect(rejections).toMatchObject([{ messageId: 'm190', status: 403 }]);
    expect((await serverMessage('m190')).text).toBe('message 190');
    await Promise.all([reloaded.close(), bob.close(), cache.close()]);
  }, 90_000);

  it('keeps at most its page limit, dropping the least recently used', async () => {
    const api = apiFor('alice');
    const cache = new HistoryCache(`bounded-${Date.now()}`, true, (c, before, limit) => api.history(c, before, limit), 3);
    let cursor: string | undefined;
    for (let i = 0; i < 5; i++) cursor = (await cache.load(conversationId, cursor, 20)).nextCursor!;
    expect(await cache.size()).toBe(3);
    await cache.close();
  });
});
