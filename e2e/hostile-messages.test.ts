/**
 * A member who breaks a conversation for everyone (issue 11, items 6 and 7):
 * absurd client times, which stay forever in an immutable field, and message
 * ids reused from another message, which make replies point at the impostor.
 * Every attack is sent as raw frames over a real socket; the server refuses
 * it, stores nothing of it (read back fresh and after a restart), and honest
 * messages keep flowing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as Y from 'yjs';
import {
  DEFAULTS,
  appendMessage,
  conversationDocName,
  editMessage,
  inboxDocName,
  readMessages,
  setNotificationField,
  setReaction,
  setRead,
  softDeleteMessage,
} from '@parley/schema';
import { startServer, type TestServer } from './fixtures/server';
import { createConversation } from './fixtures/clients';
import { RawClient, type Outcome } from './fixtures/rawClient';
import { readStored, rejected, type Stored } from './fixtures/hostile';
import { notificationsOf } from './fixtures/notifications';

let server: TestServer;
let conversationId: string;
let doc: string;

/** One change by `user` on a fresh socket, and the server's verdict. */
async function write(user: string, docName: string, mutate: (doc: Y.Doc) => void): Promise<Outcome> {
  const client = await RawClient.connect(server.wsUrl);
  try {
    const target = await client.open(docName, await server.token(user));
    return await target.send(target.change(mutate));
  } finally {
    client.close();
  }
}

/** The attack is refused with `reason`, counted, and leaves the stored document as it was. */
async function refused(user: string, docName: string, mutate: (doc: Y.Doc) => void, reason: string): Promise<void> {
  const reader = docName.startsWith('inbox:') ? user : 'alice';
  const before: Stored = await readStored(server, reader, docName);
  const counted = await rejected(server, reason);
  expect(await write(user, docName, mutate)).toEqual({ refused: reason });
  expect(await readStored(server, reader, docName)).toEqual(before);
  expect(await rejected(server, reason)).toBe(counted + 1);
}

beforeAll(async () => {
  server = await startServer();
  conversationId = await createConversation(server, 'alice', ['bob'], 'room');
  doc = conversationDocName(conversationId);
  expect(await write('alice', doc, (d) => appendMessage(d, { id: 'm1', author: 'alice', text: 'the real one' }))).toEqual({ applied: true });
});

afterAll(async () => {
  await server?.stop();
});

describe('client times are bounded', () => {
  const ahead = () => Date.now() + DEFAULTS.clientClockSkewMaxMs + 60_000;
  it.each([
    ['createdAt 1e300', (d: Y.Doc) => appendMessage(d, { id: 'far', author: 'bob', text: 'x', createdAt: 1e300 })],
    ['createdAt NaN', (d: Y.Doc) => appendMessage(d, { id: 'nan', author: 'bob', text: 'x', createdAt: Number.NaN })],
    ['createdAt negative', (d: Y.Doc) => appendMessage(d, { id: 'neg', author: 'bob', text: 'x', createdAt: -1 })],
    ['createdAt before 2020', (d: Y.Doc) => appendMessage(d, { id: 'old', author: 'bob', text: 'x', createdAt: Date.UTC(2019, 0, 1) })],
    ['createdAt past the skew', (d: Y.Doc) => appendMessage(d, { id: 'soon', author: 'bob', text: 'x', createdAt: ahead() })],
    ['a reaction at 1e300', (d: Y.Doc) => setReaction(d, 'm1', 'bob', '👍', true, 1e300)],
    ['a read receipt at 1e300', (d: Y.Doc) => setRead(d, 'bob', 'm1', 1e300)],
  ])('refuses %s', async (_what, mutate) => {
    await refused('bob', doc, mutate, 'invalid-message');
  });

  it("refuses the author's own editedAt and deletedAt out of range", async () => {
    await refused('alice', doc, (d) => editMessage(d, 'm1', 'edited', 1e300), 'invalid-message');
    await refused('alice', doc, (d) => softDeleteMessage(d, 'm1', ahead()), 'invalid-message');
  });

  it('refuses a notification marked read at 1e300 in the inbox', async () => {
    expect(await write('bob', doc, (d) => appendMessage(d, { id: 'ping', author: 'bob', text: 'ping' }))).toEqual({ applied: true });
    const [notification] = await notificationsOf(server, 'alice', 1);
    expect(notification).toBeDefined();
    await refused('alice', inboxDocName('alice'), (d) => setNotificationField(d, notification!.id, 'readAt', 1e300), 'invalid-message');
    expect(await write('alice', inboxDocName('alice'), (d) => setNotificationField(d, notification!.id, 'readAt', Date.now()))).toEqual({ applied: true });
  });

  it('accepts a clock a little fast, and the REST send takes no client time at all', async () => {
    expect(await write('bob', doc, (d) => appendMessage(d, { id: 'fast', author: 'bob', text: 'x', createdAt: Date.now() + 60_000 }))).toEqual({ applied: true });
    const answer = await server.api(`/api/conversations/${conversationId}/messages`, { token: await server.token('bob'), body: { text: 'x', createdAt: 1e300 } });
    expect(answer.status).toBe(400);
  });
});

describe('message ids are unique in a conversation', () => {
  it("refuses another member's id, and the real author keeps editing and being replied to", async () => {
    await refused('bob', doc, (d) => appendMessage(d, { id: 'm1', author: 'bob', text: 'impostor' }), 'duplicate-message-id');
    expect(await write('alice', doc, (d) => editMessage(d, 'm1', 'the real one, edited'))).toEqual({ applied: true });
    const messages = readMessages((await openFresh('bob')).doc);
    expect(messages.filter((m) => m.id === 'm1')).toEqual([expect.objectContaining({ author: 'alice', text: 'the real one, edited' })]);
  });

  it("refuses the author's second message under one id (a retry, or two offline replicas), in one update or two", async () => {
    await refused('alice', doc, (d) => appendMessage(d, { id: 'm1', author: 'alice', text: 'again' }), 'duplicate-message-id');
    await refused(
      'alice',
      doc,
      (d) => {
        appendMessage(d, { id: 'twice', author: 'alice', text: 'one' });
        appendMessage(d, { id: 'twice', author: 'alice', text: 'two' });
      },
      'duplicate-message-id',
    );
  });

  it('an id sent over REST is taken for the WebSocket too, and the other way round', async () => {
    const send = async (user: string, id: string) => server.api(`/api/conversations/${conversationId}/messages`, { token: await server.token(user), body: { id, text: 'rest' } });
    expect((await send('alice', 'by-rest')).status).toBe(201);
    await refused('bob', doc, (d) => appendMessage(d, { id: 'by-rest', author: 'bob', text: 'mine' }), 'duplicate-message-id');
    expect(await write('bob', doc, (d) => appendMessage(d, { id: 'by-ws', author: 'bob', text: 'ws' }))).toEqual({ applied: true });
    expect((await send('alice', 'by-ws')).status).toBe(409);
  });

  it('after a restart the stored document still has each id once, and the rule still holds', async () => {
    await server.restart();
    const ids = readMessages((await openFresh('alice')).doc).map((m) => m.id);
    expect(ids.length).toBe(new Set(ids).size);
    await refused('bob', doc, (d) => appendMessage(d, { id: 'm1', author: 'bob', text: 'impostor' }), 'duplicate-message-id');
  });
});

/** A fresh raw replica of the conversation, for reading. */
async function openFresh(user: string) {
  const client = await RawClient.connect(server.wsUrl);
  try {
    return await client.open(doc, await server.token(user));
  } finally {
    client.close();
  }
}
