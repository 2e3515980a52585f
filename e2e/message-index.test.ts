/**
 * The message index against the documents it mirrors, on a real server with
 * real SQLite files: every change (WebSocket and REST, messages, edits, soft
 * deletions, reactions, read receipts) is in the index in the same
 * transaction as its update, so after a kill -9 in the middle of writes the
 * index holds exactly what the stored documents hold; and a database from
 * before the index upgrades in place at start.
 */
import * as Y from 'yjs';
import { afterEach, describe, expect, it } from 'vitest';
import { appendMessage, conversationDocName, editMessage, readMessages, readReceipts, setReaction, setRead, softDeleteMessage } from '@parley/schema';
import { SqliteStorage } from '../sync-server/src/storage/SqliteStorage';
import { startServer, type TestServer } from './fixtures/server';
import { connectUser, createConversation, waitFor } from './fixtures/clients';
import { withDatabase } from './fixtures/database';

const servers: TestServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.kill().catch(() => {});
});

async function start(): Promise<TestServer> {
  const server = await startServer();
  servers.push(server);
  return server;
}

/** What the stored document and the index of a stopped server hold for one conversation, in comparable form. */
async function storedAndIndexed(server: TestServer, conversationId: string) {
  const storage = SqliteStorage.inDataDir(server.dataDir);
  try {
    const stored = await storage.documents.load(conversationDocName(conversationId));
    const doc = new Y.Doc();
    for (const part of stored.snapshot ? [stored.snapshot, ...stored.updates] : stored.updates) Y.applyUpdate(doc, part);
    const fromDoc = readMessages(doc).map((m) => ({ ...m }));
    const page = await storage.messages.page(conversationId, null, 10_000);
    const fromIndex = page.messages.reverse().map(({ conversationId: _c, seq: _s, ...m }) => m);
    const reads = Object.entries(readReceipts(doc)).map(([userId, r]) => ({ userId, messageId: r.messageId, at: r.at }));
    const indexedReads = withDatabase(server, (db) => db.prepare('SELECT user_id AS userId, message_id AS messageId, at FROM message_reads WHERE conversation_id = ? ORDER BY user_id').all(conversationId), { readonly: true });
    return { fromDoc, fromIndex, reads: reads.sort((a, b) => a.userId.localeCompare(b.userId)), indexedReads };
  } finally {
    await storage.close();
  }
}

describe('message index', () => {
  it('holds every change of the document: messages, edits, soft deletions, reactions and receipts, from WebSocket and REST', async () => {
    const server = await start();
    const id = await createConversation(server, 'ixa', ['ixb']);
    const alice = await connectUser(server, 'ixa');
    const bob = await connectUser(server, 'ixb');
    const a = alice.open(conversationDocName(id));
    const b = bob.open(conversationDocName(id));
    await Promise.all([a.synced, b.synced]);
    for (let i = 0; i < 20; i++) appendMessage(a.doc, { id: `m${i}`, author: 'ixa', text: `hello ${i}` });
    await a.acknowledged();
    await waitFor(() => readMessages(b.doc).length === 20);
    editMessage(a.doc, 'm3', 'edited three');
    softDeleteMessage(a.doc, 'm4');
    setReaction(b.doc, 'm5', 'ixb', '👍', true);
    setRead(b.doc, 'ixb', 'm19');
    await Promise.all([a.acknowledged(), b.acknowledged()]);
    setReaction(b.doc, 'm5', 'ixb', '👍', false);
    setReaction(b.doc, 'm6', 'ixb', '🎉', true);
    await b.acknowledged();
    const rest = await server.api(`/api/conversations/${id}/messages`, { token: await server.token('ixb'), body: { id: 'r1', text: 'over REST' } });
    expect(rest.status).toBe(201);
    alice.destroy();
    bob.destroy();
    await server.stop();

    const { fromDoc, fromIndex, reads, indexedReads } = await storedAndIndexed(server, id);
    expect(fromDoc).toHaveLength(21);
    expect(fromIndex).toEqual(fromDoc);
    expect(fromIndex.find((m) => m.id === 'm4')).toMatchObject({ text: '', deletedAt: expect.any(Number) });
    expect(fromIndex.find((m) => m.id === 'm5')!.reactions).toEqual({});
    expect(indexedReads).toEqual(reads);
  });

  it('is never behind the stored documents after kill -9 with writes in flight', async () => {
    const server = await start();
    const id = await createConversation(server, 'kxa', ['kxb']);
    const alice = await connectUser(server, 'kxa');
    const a = alice.open(conversationDocName(id));
    await a.synced;
    let acknowledged = 0;
    for (let i = 0; i < 400; i++) {
      appendMessage(a.doc, { id: `k${i}`, author: 'kxa', text: `burst ${i}` });
      if (i % 50 === 49) {
        await a.acknowledged();
        acknowledged = i + 1;
      }
      if (i === 300) {
        editMessage(a.doc, 'k10', 'edited before the crash');
        await new Promise((r) => setTimeout(r, 1));
      }
      if (i === 350) {
        // Mid-burst: the last 50 are in flight, some of them perhaps half-way through a commit.
        await server.kill();
        break;
      }
    }
    alice.destroy();
    const { fromDoc, fromIndex } = await storedAndIndexed(server, id);
    expect(fromDoc.length).toBeGreaterThanOrEqual(acknowledged);
    expect(fromIndex).toEqual(fromDoc);
  });

  it('is built in place from the stored documents when a database from before the index starts', async () => {
    const server = await start();
    const id = await createConversation(server, 'uxa', ['uxb']);
    const alice = await connectUser(server, 'uxa');
    const a = alice.open(conversationDocName(id));
    await a.synced;
    for (let i = 0; i < 30; i++) appendMessage(a.doc, { id: `u${i}`, author: 'uxa', text: `old ${i}` });
    editMessage(a.doc, 'u2', 'old but edited');
    setRead(a.doc, 'uxa', 'u29');
    await a.acknowledged();
    alice.destroy();
    await server.stop();
    // What the previous version's database looks like: no index tables, no migration 4, nor the
    // later ones that only rework the index (14: prefix indexes, 16: unread tallies, 18: full-text entries in batches).
    withDatabase(server, (db) => {
      db.exec(`DROP TABLE messages_fts; DROP TABLE messages; DROP TABLE message_reads; DROP TABLE message_index_state; DROP TABLE messages_fts_pending;
               DELETE FROM schema_migrations WHERE version IN (4, 14, 16, 18);`);
    });
    await server.restart();
    const search = await server.api(`/api/conversations/${id}/messages?limit=5`, { token: await server.token('uxb') });
    expect(search.status).toBe(200);
    await server.stop();
    const { fromDoc, fromIndex, reads, indexedReads } = await storedAndIndexed(server, id);
    expect(fromDoc).toHaveLength(30);
    expect(fromIndex).toEqual(fromDoc);
    expect(indexedReads).toEqual(reads);
    expect(server.output()).toContain('message index built');
  });
});
