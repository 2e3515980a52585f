/**
 * Changes to messages outside the live window reach other clients live
 * (issue 9): a REST edit, reaction or soft deletion of an old message is
 * stored in the message index and announced in the live document's `outside`
 * map (message id -> time); a client showing that message (an SDK session
 * that loaded its history page) fetches it again and emits
 * `messageUpdated`, without reloading. The map stays bounded
 * (`DEFAULTS.outsideChangesMax`), clients cannot write it, and a plain Yjs
 * client following the contract sees the announcements too. Real server
 * (LIVE_WINDOW_MESSAGES=5), real WebSockets and HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS, UpdateRejection, conversationDocName, conversationParts, readOutsideChanges, type Message } from '@parley/schema';
import { startServer, type TestServer } from './fixtures/server';
import { seedHistory } from './fixtures/bulkHistory';
import { RawClient } from './fixtures/rawClient';
import { eventually, nodeSession } from '../client/src/testing/nodeClient';
import type { Session } from '../client/src/sdk/Session';

const WINDOW = 5;
const SEEDED = DEFAULTS.outsideChangesMax + 20;
let server: TestServer;
let id: string;
const sessions: Session[] = [];

beforeAll(async () => {
  server = await startServer({ env: { LIVE_WINDOW_MESSAGES: String(WINDOW) } });
  const created = await server.api('/api/conversations', { token: await server.token('owa'), body: { members: ['owb'], title: 'Old' } });
  id = created.body.id;
  await seedHistory(server, id, 'owa', SEEDED);
}, 60_000);
afterAll(async () => {
  await Promise.all(sessions.map((s) => s.destroy()));
  await server?.stop();
});

const rest = async (userId: string, method: string, path: string, body?: unknown) =>
  server.api(`/api/conversations/${id}/messages/${path}`, { token: await server.token(userId), method, ...(body !== undefined && { body }) });

describe('changes outside the live window, live', () => {
  it("reach another client's shown history without a reload: edit, reaction, deletion", async () => {
    const b = nodeSession(server, 'owb');
    sessions.push(b);
    await b.start();
    const chat = b.conversation(id);
    await eventually(() => chat.snapshot().synced, 20_000, 'b synced');
    expect(chat.holds('m1')).toBe(false);
    // B scrolls back to the first message (history pages, as the app does).
    let page = await b.history.load(id, chat.snapshot().messages[0]!.id, 200);
    while (page.nextCursor) page = await b.history.load(id, page.nextCursor, 200);
    expect(page.messages.at(-1)!.id).toBe('m1');

    const updates: Message[] = [];
    b.on('messageUpdated', ({ conversationId, message }) => {
      if (conversationId === id) updates.push(message);
    });
    const seen = (check: (m: Message) => boolean, what: string) => eventually(() => updates.some((m) => m.id === 'm1' && check(m)), 20_000, what);

    expect((await rest('owa', 'PATCH', 'm1', { text: 'first, edited over REST' })).status).toBe(200);
    await seen((m) => m.text === 'first, edited over REST' && m.editedAt !== undefined, 'b sees the edit');
    expect((await rest('owa', 'PUT', 'm1/reactions/👍')).status).toBe(200);
    await seen((m) => 'owa:👍' in m.reactions, 'b sees the reaction');
    expect((await rest('owa', 'DELETE', 'm1')).status).toBe(200);
    await seen((m) => m.deletedAt !== undefined && m.text === '', 'b sees the deletion');
    // The cached page holds the message as it is now (what B shows offline too).
    expect(await b.history.holds(id, 'm1')).toBe(true);
    const cached = (await b.history.load(id, 'm2', 1)).messages[0];
    expect(cached).toMatchObject({ id: 'm1', text: '', deletedAt: expect.any(Number) });
    // The announcement itself: one entry per message, in B's replica of the live document.
    expect(Object.keys(readOutsideChanges(chat.replica.doc))).toContain('m1');
  }, 120_000);

  it('keeps the announcements bounded; a plain client sees them and cannot write them', async () => {
    const token = await server.token('owa');
    for (let i = 2; i <= SEEDED - WINDOW; i += 10) {
      const ids = Array.from({ length: Math.min(10, SEEDED - WINDOW - i + 1) }, (_, k) => `m${i + k}`);
      const answers = await Promise.all(ids.map((m) => server.api(`/api/conversations/${id}/messages/${m}/reactions/🎉`, { token, method: 'PUT' })));
      expect(answers.map((a) => a.status)).toEqual(ids.map(() => 200));
    }
    const client = await RawClient.connect(server.wsUrl);
    try {
      const raw = await client.open(conversationDocName(id), await server.token('owb'));
      const announced = readOutsideChanges(raw.doc);
      expect(Object.keys(announced).length).toBe(DEFAULTS.outsideChangesMax);
      // The newest changes stay: the last message changed is announced, the first ones were dropped.
      expect(announced[`m${SEEDED - WINDOW}`]).toEqual(expect.any(Number));
      expect(announced.m2).toBeUndefined();

      // A client's write into `outside` is refused as server-only, and nothing of it is stored.
      const outcome = await raw.send(raw.change((doc) => conversationParts(doc).outside.set('m3', Date.now())));
      expect(outcome).toEqual({ refused: UpdateRejection.serverOnly });
    } finally {
      client.close();
    }
    const again = await RawClient.connect(server.wsUrl);
    try {
      const raw = await again.open(conversationDocName(id), await server.token('owb'));
      expect(readOutsideChanges(raw.doc).m3).toBeUndefined();
    } finally {
      again.close();
    }
  }, 120_000);
});
