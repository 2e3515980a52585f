/**
 * A replica rebuilt twice in a row (DocReplica.reset): the second rebuild
 * can begin in the same network read as the first one's sync (a renewal's
 * close arriving right behind the window), before the first has made its
 * salvaged and held changes again. Those must be carried over, not made on
 * the replica being dropped. Real server, real WebSockets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendMessage, findMessage } from '@parley/schema';
import { startServer, type TestServer } from '../../../e2e/fixtures/server';
import { eventually, nodeSession } from '../testing/nodeClient';
import type { Session } from './Session';

let server: TestServer;
const sessions: Session[] = [];
beforeAll(async () => {
  server = await startServer();
}, 30_000);
afterAll(async () => {
  await Promise.all(sessions.map((s) => s.destroy()));
  await server?.stop();
});

describe('DocReplica rebuilt again before its first rebuild synced', () => {
  it('makes the first rebuild’s salvaged and held changes on the second, once', async () => {
    const alice = nodeSession(server, 'rebuild-a');
    sessions.push(alice);
    await alice.start();
    const id = await alice.startDirect('rebuild-b');
    const chat = alice.conversation(id);
    await eventually(() => chat.snapshot().synced, 20_000, 'synced');
    const replica = chat.replica;

    // The second rebuild begins inside the change that reports the first one synced, as a close read
    // with the sync would: before anything queued behind that change runs.
    let rebuilding = false;
    let again = false;
    replica.on('change', () => {
      if (!replica.serverSynced) rebuilding = true;
      if (!rebuilding || again || !replica.serverSynced) return;
      again = true;
      void replica.reset(true, () => []);
    });
    void replica.reset(true, () => [(doc) => appendMessage(doc, { id: 'salvaged-1', author: 'rebuild-a', text: 'salvaged' })]);
    // Made while the first rebuild waits for the server: held, then made on the rebuilt replica.
    chat.send('held meanwhile', { id: 'held-1' });

    await eventually(() => again && findMessage(replica.doc, 'salvaged-1') !== null && findMessage(replica.doc, 'held-1') !== null, 20_000, 'both made on the replica');
    const token = await server.token('rebuild-a');
    await eventually(
      async () => {
        const page = await server.api(`/api/conversations/${id}/messages?limit=50`, { token });
        if (page.status !== 200) return new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 250));
        const ids = (page.body.messages as Array<{ id: string }>).map((m) => m.id);
        return ids.includes('salvaged-1') && ids.includes('held-1');
      },
      20_000,
      'both stored on the server',
    );
    const ids = chat.snapshot().messages.map((m) => m.id);
    expect(ids.filter((m) => m === 'salvaged-1' || m === 'held-1').sort()).toEqual(['held-1', 'salvaged-1']);
  }, 60_000);
});
