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
import { appendMessage, conversationDocName, inboxDocName, listNotifications, softDeleteMessage, type Notification } from '@parley/schema';
import { startServer, type TestServer } from './fixtures/server';
import { connectUser, createConversation } from './fixtures/clients';
import { fetchFile, upload } from './fixtures/uploads';
import { wordsStored } from './fixtures/storedBytes';
import { RawClient } from './fixtures/rawClient';

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
  for (const user of ['ea', 'eb', 'ec']) tokens[user] = await server.token(user);
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

  it('reaches a member who left: the notifications in their inbox document and in the archive lose the text', async () => {
    const chatSecret = unique('numbatsecret');
    const mentionSecret = unique('dingosecret');
    const leaverRoom = await createConversation(server, 'ea', ['ec']);
    // Every page, archived ones included: the filler notifications below come first.
    const notificationsOf = async (): Promise<Notification[]> => {
      const all: Notification[] = [];
      let cursor: string | null = null;
      do {
        const page: { body: { notifications: Notification[]; nextCursor: string | null } } = await server.api(`/api/notifications?limit=100&archived=1${cursor ? `&cursor=${cursor}` : ''}`, { token: tokens.ec });
        all.push(...page.body.notifications);
        cursor = page.body.nextCursor;
      } while (cursor);
      return all;
    };
    const about = async () => (await notificationsOf()).filter((n) => n.data.conversationId === leaverRoom);
    const waitFor = async (check: () => Promise<boolean>, what: string) => {
      const deadline = Date.now() + 30_000;
      while (!(await check())) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    const send = (id: string, text: string, mentions?: string[]) =>
      server.api(`/api/conversations/${leaverRoom}/messages`, { token: tokens.ea, body: { id, text, ...(mentions && { mentions }) } });
    expect((await send('leaver-chat', `the gate code is ${chatSecret}`)).status).toBe(201);
    await waitFor(async () => (await about()).some((n) => n.kind === 'new_message' && n.body.includes(chatSecret)), 'the chat notification');
    expect((await send('leaver-mention', `@ec the van key is under ${mentionSecret}`, ['ec'])).status).toBe(201);
    await waitFor(async () => {
      const mine = await about();
      return mine.some((n) => n.kind === 'mention' && n.body.includes(mentionSecret)) && mine.some((n) => n.kind === 'new_message' && n.body.includes(mentionSecret));
    }, 'the mention, and the chat notification quoting it');

    // The mention leaves the inbox document for the archive: read first, then past DEFAULTS.inboxSettledMax (200) newer settled ones.
    const mention = (await about()).find((n) => n.kind === 'mention')!;
    const chat = (await about()).find((n) => n.kind === 'new_message')!;
    expect((await server.api(`/api/notifications/${encodeURIComponent(mention.id)}/read`, { token: tokens.ec, method: 'POST' })).status).toBeLessThan(300);
    await new Promise((r) => setTimeout(r, 20));
    const service = await server.token('erasure-shop', { roles: ['service'] });
    for (let i = 0; i < 200; i += 20) {
      await Promise.all(Array.from({ length: 20 }, async (_, k) => {
        const body = { id: `ec-filler-${i + k}`, type: 'review.created', occurredAt: new Date().toISOString(), subject: { type: 'review', id: `r${i + k}` }, recipients: ['ec'], data: { rating: 5 } };
        expect((await server.api('/api/events', { token: service, body })).status).toBe(202);
      }));
    }
    await waitFor(async () => (await server.api('/api/notifications/unread-count', { token: tokens.ec })).body.count >= 201, 'the filler notifications');
    expect((await server.api('/api/notifications/read-all', { token: tokens.ec, method: 'POST' })).status).toBeLessThan(300);
    // The chat notification stays in the document (unread ones never move).
    expect((await server.api(`/api/notifications/${encodeURIComponent(chat.id)}/unread`, { token: tokens.ec, method: 'POST' })).status).toBeLessThan(300);
    const cleanup = await server.api('/api/admin/cleanup', { token: await server.token('root', { roles: ['admin'] }), method: 'POST' });
    expect(cleanup.body.notificationsMoved).toBeGreaterThanOrEqual(1);
    const inbox = await inboxIds('ec');
    expect(inbox).not.toContain(mention.id);
    expect(inbox).toContain(chat.id);
    expect((await about()).find((n) => n.id === mention.id)?.body).toContain(mentionSecret);

    // ec leaves; then both messages are deleted. No recompute visits ec's inbox any more.
    expect((await server.api(`/api/conversations/${leaverRoom}/members/ec`, { token: tokens.ec, method: 'DELETE' })).status).toBeLessThan(300);
    expect(await inDatabaseFiles([chatSecret, mentionSecret])).toEqual([chatSecret, mentionSecret]);
    for (const id of ['leaver-chat', 'leaver-mention']) {
      expect((await server.api(`/api/conversations/${leaverRoom}/messages/${id}`, { token: tokens.ea, method: 'DELETE' })).status).toBe(200);
    }
    const deletedAt = Date.now();
    while ((await inDatabaseFiles([chatSecret, mentionSecret])).length > 0 && Date.now() - deletedAt < 60_000) await new Promise((r) => setTimeout(r, 250));
    expect(await inDatabaseFiles([chatSecret, mentionSecret])).toEqual([]);
    const after = await about();
    expect(after.map((n) => n.id).sort()).toEqual([chat.id, mention.id].sort());
    for (const n of after) expect(n.body).toBe('Message deleted');
  }, 180_000);
});

/** The ids of the notifications in the user's inbox document (not the archive). */
async function inboxIds(userId: string): Promise<string[]> {
  const client = await RawClient.connect(server.wsUrl);
  try {
    const raw = await client.open(inboxDocName(userId), await server.token(userId));
    return listNotifications(raw.doc).map((n) => n.id);
  } finally {
    client.close();
  }
}
