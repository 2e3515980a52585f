/**
 * Erasure of soft-deleted messages (issue 14, item 5; CONTRACT section 3:
 * "within 60 s the deleted text and files are gone from everything the
 * server stores, its history and its search included"), proven on the raw
 * bytes: the SQLite file and its WAL are searched for the deleted text. The
 * text first reaches every place it is kept (the update log, a compacted
 * snapshot, the message index and its full-text index, the recipient's
 * notification and inbox summary); a message that is not deleted stays.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendMessage, conversationDocName, softDeleteMessage } from '@parley/schema';
import { startServer, type TestServer } from './fixtures/server';
import { connectUser, createConversation } from './fixtures/clients';
import { fetchFile, upload } from './fixtures/uploads';
import { wordsStored } from './fixtures/storedBytes';

const inDatabaseFiles = (words: string[]) => wordsStored(server, words);

let server: TestServer;
let room: string;
const tokens: Record<string, string> = {};
const unique = (word: string) => `${word}${Math.random().toString(36).slice(2, 10)}`;

const search = (q: string) => server.api(`/api/search?${new URLSearchParams({ q })}`, { token: tokens.eb });
const notificationBodies = async () =>
  ((await server.api('/api/notifications?limit=50', { token: tokens.eb })).body.notifications as Array<{ body: string }>).map((n) => n.body).join('\n');

beforeAll(async () => {
  // Compaction runs often, so the secret also lands in a compacted snapshot before it is deleted.
  server = await startServer({ env: { COMPACTION_INTERVAL_MS: '200', COMPACTION_MAX_LOG_UPDATES: '2' } });
  for (const user of ['ea', 'eb']) tokens[user] = await server.token(user);
  room = await createConversation(server, 'ea', ['eb']);
}, 60_000);
afterAll(async () => {
  await server?.stop();
});

describe('erasure', () => {
  it('leaves no trace of a deleted message in the database file within 60 s; other messages stay', async () => {
    const overSocket = unique('quokkasecret');
    const overRest = unique('wombatsecret');
    const kept = unique('platypuskept');
    const fileText = unique('filesecret');
    const client = await connectUser(server, 'ea');
    try {
      const open = client.open(conversationDocName(room));
      await open.synced;
      appendMessage(open.doc, { id: 'secret-socket', author: 'ea', text: `the alarm code is ${overSocket}` });
      await open.acknowledged();
      const attachment = (await upload(server, tokens.ea, room, Buffer.from(`the file says ${fileText}`), 'code.txt')).body;
      expect((await server.api(`/api/conversations/${room}/messages`, { token: tokens.ea, body: { id: 'secret-rest', text: `and the safe is ${overRest}`, attachments: [attachment] } })).status).toBe(201);
      // The secret reached everywhere: search, the recipient's notification (later replaced by the next message's text), and the files.
      const deadline = Date.now() + 20_000;
      while (!(await notificationBodies()).includes(overRest) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(await notificationBodies()).toContain(overRest);
      expect((await server.api(`/api/conversations/${room}/messages`, { token: tokens.ea, body: { id: 'kept', text: `this one stays ${kept}` } })).status).toBe(201);
      expect((await search(overSocket)).body.results).toHaveLength(1);
      expect((await search(overRest)).body.results).toHaveLength(1);
      expect(await inDatabaseFiles([overSocket, overRest, kept])).toEqual([overSocket, overRest, kept]);

      // Deleted: one over the socket, one over REST (with its file).
      softDeleteMessage(open.doc, 'secret-socket');
      await open.acknowledged();
      expect((await server.api(`/api/conversations/${room}/messages/secret-rest`, { token: tokens.ea, method: 'DELETE' })).status).toBe(200);
      const deletedAt = Date.now();

      const erased = Date.now() + 60_000;
      while ((await inDatabaseFiles([overSocket, overRest])).length > 0 && Date.now() < erased) await new Promise((r) => setTimeout(r, 250));
      expect(await inDatabaseFiles([overSocket, overRest, kept])).toEqual([kept]);
      expect(Date.now() - deletedAt).toBeLessThan(60_000);
      expect((await search(overSocket)).body.results).toEqual([]);
      expect((await search(overRest)).body.results).toEqual([]);
      expect(await notificationBodies()).not.toContain(overRest);
      expect((await fetchFile(server, attachment.url, tokens.eb)).status).toBe(404);

      // The conversation still works, and the surviving message is whole.
      const history = (await server.api(`/api/conversations/${room}/messages`, { token: tokens.eb })).body.messages as Array<{ id: string; text: string; deletedAt?: number }>;
      expect(history.find((m) => m.id === 'kept')?.text).toBe(`this one stays ${kept}`);
      expect(history.find((m) => m.id === 'secret-rest')).toMatchObject({ text: '', deletedAt: expect.any(Number) });
    } finally {
      client.destroy();
    }
    // Once restarted from what is stored, the document loads without the text and the messages are all there.
    await server.restart();
    expect(await inDatabaseFiles([overSocket, overRest])).toEqual([]);
    const after = await connectUser(server, 'eb');
    try {
      const open = after.open(conversationDocName(room));
      await open.synced;
      const ids = open.doc.getArray<any>('messages').toArray().map((m) => m.get('id'));
      expect(ids).toEqual(['secret-socket', 'secret-rest', 'kept']);
      expect(JSON.stringify(open.doc.toJSON())).not.toContain(overSocket);
    } finally {
      after.destroy();
    }
  }, 120_000);
});
