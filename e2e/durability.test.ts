import { afterEach, describe, expect, it } from 'vitest';
import { appendMessage, conversationDocName, readMessages } from '@parley/schema';
import { startServer, tempDataDir, type TestServer } from './fixtures/server';
import { connectUser, createConversation, waitFor } from './fixtures/clients';
import { testSeed, withSeed } from './fixtures/random';

const FILE = 'e2e/durability.test.ts';
const servers: TestServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.kill().catch(() => {});
});

async function start(options: Parameters<typeof startServer>[0] = {}) {
  const server = await startServer(options);
  servers.push(server);
  return server;
}

/** Reads a conversation with a fresh client (nothing cached) and returns its message ids in order. */
async function readBack(server: TestServer, user: string, conversationId: string): Promise<string[]> {
  const client = await connectUser(server, user);
  try {
    const doc = client.open(conversationDocName(conversationId));
    await doc.synced;
    return readMessages(doc.doc).map((m) => m.id);
  } finally {
    client.destroy();
  }
}

describe('acknowledged means durable', () => {
  it('an acknowledged write survives kill -9 with no client left to resend it (random moments, several rounds)', async () => {
    const seed = testSeed();
    await withSeed(FILE, seed, async (random) => {
      const server = await start();
      const id = await createConversation(server, 'alice', ['bob']);
      for (let round = 0; round < 5; round++) {
        const client = await connectUser(server, 'alice');
        const open = client.open(conversationDocName(id));
        await open.synced;
        const written: string[] = [];
        const acknowledged = new Set<string>();
        open.provider.on('unsyncedChanges', ({ number }: { number: number }) => {
          if (number === 0) for (const m of written) acknowledged.add(m);
        });
        // One write acknowledged for sure, then writes in flight at a random moment of the kill.
        appendMessage(open.doc, { id: `r${round}-first`, author: 'alice', text: 'first' });
        written.push(`r${round}-first`);
        await open.acknowledged();
        const killAfter = 20 + Math.floor(random() * 200);
        const started = Date.now();
        let n = 0;
        while (Date.now() - started < killAfter) {
          const messageId = `r${round}-m${n++}`;
          appendMessage(open.doc, { id: messageId, author: 'alice', text: `round ${round} #${n}` });
          written.push(messageId);
          if (random() < 0.5) await new Promise((r) => setTimeout(r, Math.floor(random() * 5)));
        }
        await server.kill();
        client.destroy(); // the client dies too: nothing can be resent
        await server.restart();
        const stored = new Set(await readBack(server, 'bob', id));
        const lost = [...acknowledged].filter((m) => !stored.has(m));
        expect(lost, `round ${round}: ${acknowledged.size} acknowledged of ${written.length} written`).toEqual([]);
        expect(acknowledged.size).toBeGreaterThan(0);
      }
    });
  });

  it('10,000 messages come back intact, in order and without duplicates after restarts', async () => {
    // The whole history in the live document (no renewal): this test reads it back from the
    // document itself; renewals under kill -9 have their own test (renewal-kill.test.ts).
    const server = await start({ env: { COMPACTION_INTERVAL_MS: '300', COMPACTION_MAX_LOG_UPDATES: '2000', LIVE_WINDOW_MESSAGES: '10000' } });
    const id = await createConversation(server, 'alice', ['bob']);
    const client = await connectUser(server, 'alice');
    const open = client.open(conversationDocName(id));
    await open.synced;
    const expected: string[] = [];
    for (let i = 0; i < 10_000; i++) {
      const messageId = `m${String(i).padStart(5, '0')}`;
      appendMessage(open.doc, { id: messageId, author: 'alice', text: `message ${i}` });
      expected.push(messageId);
      if (i % 500 === 499) await open.acknowledged(20_000);
    }
    await open.acknowledged(20_000);
    client.destroy();

    await server.stop(); // clean restart
    await server.restart();
    expect(await readBack(server, 'bob', id)).toEqual(expected);

    await server.kill(); // and a crash
    await server.restart();
    expect(await readBack(server, 'alice', id)).toEqual(expected);

    // History pages over HTTP walk the same list backwards.
    const token = await server.token('bob');
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `limit=200${cursor ? `&before=${cursor}` : ''}`;
      const page = await server.api(`/api/conversations/${id}/messages?${query}`, { token });
      expect(page.status).toBe(200);
      seen.push(...page.body.messages.map((m: { id: string }) => m.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen.reverse()).toEqual(expected);
  });

  it('compaction running while several writers write loses nothing', async () => {
    const seed = testSeed();
    await withSeed(FILE, seed, async (random) => {
      const dataDir = tempDataDir();
      const server = await start({ dataDir, env: { COMPACTION_INTERVAL_MS: '20', COMPACTION_MAX_LOG_UPDATES: '5' } });
      const users = ['u1', 'u2', 'u3'];
      const id = await createConversation(server, 'u1', ['u2', 'u3']);
      const clients = await Promise.all(users.map((u) => connectUser(server, u)));
      const docs = clients.map((c) => c.open(conversationDocName(id)));
      await Promise.all(docs.map((d) => d.synced));
      const expected = new Set<string>();
      await Promise.all(
        docs.map(async (open, w) => {
          for (let i = 0; i < 300; i++) {
            const messageId = `${users[w]}-${i}`;
            appendMessage(open.doc, { id: messageId, author: users[w]!, text: `from ${users[w]} ${i}` });
            expected.add(messageId);
            if (random() < 0.3) await new Promise((r) => setTimeout(r, Math.floor(random() * 4)));
          }
          await open.acknowledged(20_000);
        }),
      );
      for (const c of clients) c.destroy();
      const compactions = async () => Number(/parley_compactions_total (\d+)/.exec((await server.api('/metrics')).body)?.[1] ?? 0);
      expect(await compactions()).toBeGreaterThan(0);
      await server.kill();
      await server.restart();
      const stored = await readBack(server, 'u2', id);
      expect(new Set(stored)).toEqual(expected);
      expect(stored.length).toBe(expected.size);
      expect(server.output()).not.toContain('compaction failed');
    });
  });
});
