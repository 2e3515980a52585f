/**
 * GET /api/conversations from the message index (issue 9, item 3): the list
 * opens no conversation document, however many conversations the caller has,
 * and unread counts are exact (the document digest stopped at 2,000).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from './fixtures/server';
import { createConversation } from './fixtures/clients';
import { seedHistory } from './fixtures/bulkHistory';

let server: TestServer;
const openDocuments = async () => Number(/^parley_documents_open (\d+)/m.exec(await fetch(`${server.httpUrl}/metrics`).then((r) => r.text()))?.[1]);

beforeAll(async () => {
  server = await startServer();
}, 60_000);
afterAll(async () => {
  await server?.stop();
});

describe('conversation list from the index', () => {
  it('lists 200 conversations with last message and exact unread counts without opening a document', async () => {
    const ids: string[] = [];
    for (let k = 0; k < 200; k++) ids.push(await createConversation(server, `lo${k % 4}`, ['lreader'], `room ${k}`));
    const owner = await server.token('lo0');
    await Promise.all(ids.slice(0, 40).map((id, k) => server.api(`/api/conversations/${id}/messages`, { token: owner, body: { id: `hello${k}`, text: `hello ${k}` } })));
    // One conversation far behind: more unread than the old 2,000 cap.
    await seedHistory(server, ids[199]!, 'lo3', 2_500);
    // Start cold. The start's own background work (the notifier recovering marked
    // conversations, the clean-up job) may open documents: let it settle first.
    await server.restart();
    const reader = await server.token('lreader');
    let before = await openDocuments();
    for (let stable = 0; stable < 5; ) {
      await new Promise((r) => setTimeout(r, 200));
      const now = await openDocuments();
      stable = now === before ? stable + 1 : 0;
      before = now;
    }
    const started = performance.now();
    const list = await server.api('/api/conversations', { token: reader });
    const took = performance.now() - started;
    console.log(`GET /api/conversations with 200 conversations: ${took.toFixed(0)} ms`);
    expect(list.status).toBe(200);
    expect(list.body.conversations).toHaveLength(200);
    // Listing opened no document (the document-reading list opened all 200).
    expect(await openDocuments()).toBeLessThanOrEqual(before);
    const byId = new Map(list.body.conversations.map((c: { id: string }) => [c.id, c]));
    expect(byId.get(ids[199])).toMatchObject({ unread: 2_500, lastMessage: { author: 'lo3', text: 'message 2500' } });
    expect(byId.get(ids[0])).toMatchObject({ title: 'room 0', kind: 'group', unread: 1, lastMessage: { author: 'lo0', text: 'hello 0' } });
    expect((byId.get(ids[0]) as { members: string[] }).members.sort()).toEqual(['lo0', 'lreader']);
    expect(byId.get(ids[100])).toMatchObject({ unread: 0, lastMessage: null });
    expect(took).toBeLessThan(5_000);
  }, 120_000);
});
