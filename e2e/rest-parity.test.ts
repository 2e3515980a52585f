/**
 * REST parity with the WebSocket (issue 9, item 4; CONTRACT section 4) on a
 * real server with a 50,000-message conversation: edits, soft deletions,
 * own reactions and read receipts on message 1, through the SDK and through
 * REST, judged by the same rules (a refusal only the update validator knows
 * answers over HTTP too), nothing half-written, every replica told.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS, conversationDocName, findMessage, messageToJSON } from '@parley/schema';
import { startServer, type TestServer } from './fixtures/server';
import { connectUser, createConversation, waitFor, type UserClient } from './fixtures/clients';
import { seedHistory } from './fixtures/bulkHistory';
import { eventually, nodeSession } from '../client/src/testing/nodeClient';
import type { Session } from '../client/src/sdk/Session';

const COUNT = 50_000;
let server: TestServer;
let id: string;
const sessions: Session[] = [];
const clients: UserClient[] = [];
const tokens: Record<string, string> = {};

beforeAll(async () => {
  server = await startServer();
  id = await createConversation(server, 'pa', ['pb']);
  for (const user of ['pa', 'pb', 'pc']) tokens[user] = await server.token(user);
  tokens.admin = await server.token('padmin', { roles: ['admin'] });
  await seedHistory(server, id, 'pa', COUNT);
}, 120_000);
afterAll(async () => {
  await Promise.all(sessions.map((s) => s.destroy()));
  for (const c of clients) c.destroy();
  await server?.stop();
});

const url = (path = '') => `/api/conversations/${id}/messages${path}`;
const call = (user: string, method: string, path: string, body?: unknown) => server.api(path, { token: tokens[user], method, ...(body !== undefined && { body }) });
/** Message `m` as the history API (the index) has it. */
async function indexed(messageId: string) {
  const next = Number(messageId.slice(1)) + 1;
  const answer = await call('pb', 'GET', url(`?before=m${next}&limit=1`));
  return answer.body.messages[0];
}

describe('REST parity on a 50,000-message conversation', () => {
  it('edits, reactions and soft deletion of message 1 through the SDK land in the index', async () => {
    // One SDK replica (loading 50,000 messages is the slow part); bob's reaction goes over REST below.
    const alice = nodeSession(server, 'pa');
    sessions.push(alice);
    await alice.start();
    const a = alice.conversation(id);
    // The replica holds the live window only (issue 9, item 2): message 1 is outside it, changed through REST.
    await eventually(() => a.snapshot().synced && a.snapshot().messages.length > 0, 60_000, 'the replica loaded');
    expect(a.snapshot().messages.length).toBeLessThanOrEqual(DEFAULTS.liveWindowMessages * DEFAULTS.liveRenewalFactor);
    expect(a.snapshot().messages.some((m) => m.id === 'm1')).toBe(false);
    expect(a.edit('m1', 'first, edited by the SDK')).toBe(true);
    expect(a.react('m1', '👍')).toBe(true);
    await alice.outbox.drained();
    await eventually(async () => (await indexed('m1')).text === 'first, edited by the SDK', 10_000, 'edit indexed');
    expect(await indexed('m1')).toMatchObject({ editedAt: expect.any(Number), reactions: { 'pa:👍': expect.any(Number) } });
    expect(a.remove('m2')).toBe(true);
    await alice.outbox.drained();
    await eventually(async () => (await indexed('m2')).deletedAt !== undefined, 10_000, 'deletion indexed');
    expect(await indexed('m2')).toMatchObject({ text: '' });
  }, 120_000);

  it('edits, reactions, deletion and receipts over REST, in the index outside the window and seen by WebSocket replicas inside it', async () => {
    const watcher = await connectUser(server, 'pb');
    clients.push(watcher);
    const live = watcher.open(conversationDocName(id));
    await live.synced;
    const seen = (messageId: string) => messageToJSON(findMessage(live.doc, messageId)!.map);

    const edited = await call('pa', 'PATCH', url('/m1'), { text: 'first, edited over REST' });
    expect(edited.status).toBe(200);
    expect(edited.body.message).toMatchObject({ id: 'm1', author: 'pa', text: 'first, edited over REST', editedAt: expect.any(Number) });
    expect(Object.keys(edited.body.message)).not.toContain('seq');
    expect((await indexed('m1')).text).toBe('first, edited over REST');
    // Inside the window, a REST edit reaches the sockets.
    expect((await call('pa', 'PATCH', url(`/m${COUNT}`), { text: 'newest, edited over REST' })).status).toBe(200);
    await waitFor(() => seen(`m${COUNT}`).text === 'newest, edited over REST', 10_000, 'the edit reaches a socket');

    const reacted = await call('pb', 'PUT', url(`/m1/reactions/${encodeURIComponent('🎉')}`));
    expect(reacted.status).toBe(200);
    expect(Object.keys(reacted.body.message.reactions).sort()).toEqual(['pa:👍', 'pb:🎉'].sort());
    expect((await call('pb', 'PUT', url(`/m1/reactions/${encodeURIComponent('👍')}`))).status).toBe(200);
    const unreacted = await call('pb', 'DELETE', url(`/m1/reactions/${encodeURIComponent('👍')}`));
    expect(Object.keys(unreacted.body.message.reactions).sort()).toEqual(['pa:👍', 'pb:🎉'].sort());
    // Nobody removes someone else's reaction: bob's DELETE of 👍 took only his own.
    // Again: already so, nothing changes.
    expect((await call('pb', 'DELETE', url(`/m1/reactions/${encodeURIComponent('👍')}`))).status).toBe(200);
    expect(await indexed('m1')).toEqual(unreacted.body.message);

    const read = await call('pb', 'POST', `/api/conversations/${id}/read`, { messageId: `m${COUNT}` });
    expect(read.status).toBe(200);
    expect(read.body.read).toMatchObject({ messageId: `m${COUNT}`, at: expect.any(Number) });
    const listed = await call('pb', 'GET', '/api/conversations');
    expect(listed.body.conversations.find((c: { id: string }) => c.id === id).unread).toBe(0);
    const unreadOfC = await call('pa', 'GET', '/api/conversations');
    expect(unreadOfC.body.conversations.find((c: { id: string }) => c.id === id).unread).toBe(0);

    const moderated = await call('admin', 'DELETE', url('/m3'));
    expect(moderated.status).toBe(200);
    expect(moderated.body.message).toMatchObject({ id: 'm3', text: '', deletedAt: expect.any(Number) });
    const deleted = await call('pa', 'DELETE', url('/m1'));
    expect(deleted.body.message).toMatchObject({ id: 'm1', text: '', deletedAt: expect.any(Number) });
    expect((await indexed('m1')).deletedAt).toEqual(expect.any(Number));
    expect((await call('pa', 'DELETE', url('/m1'))).status).toBe(200);
  });

  it('refuses what the rules refuse, with the contract error, and writes nothing', async () => {
    const before = await indexed('m5');
    const refused: Array<[string, string, string, unknown, number]> = [
      ['pb', 'PATCH', url('/m5'), { text: 'not mine' }, 403],
      ['pb', 'DELETE', url('/m5'), undefined, 403],
      ['pc', 'PATCH', url('/m5'), { text: 'stranger' }, 403],
      ['pc', 'PUT', url('/m5/reactions/x'), undefined, 403],
      ['pa', 'PATCH', url('/m5'), { text: 'x'.repeat(DEFAULTS.messageTextMaxBytes + 1) }, 400],
      ['pa', 'PATCH', url('/m5'), { text: 5 }, 400],
      ['pa', 'PATCH', url('/m5'), { text: 'x', extra: true }, 400],
      ['pa', 'PATCH', url('/nope'), { text: 'x' }, 404],
      ['pa', 'PATCH', url('/m2'), { text: 'deleted before' }, 409],
      ['pa', 'PUT', url(`/m5/reactions/${'x'.repeat(DEFAULTS.emojiMaxLength + 1)}`), undefined, 400],
      ['pa', 'PUT', url('/nope/reactions/x'), undefined, 404],
      ['pa', 'POST', `/api/conversations/${id}/read`, { messageId: 'nope' }, 404],
      ['pa', 'POST', `/api/conversations/${id}/read`, {}, 400],
      ['pa', 'PATCH', `/api/conversations/unknown/messages/m5`, { text: 'x' }, 404],
    ];
    for (const [user, method, path, body, status] of refused) {
      const answer = await call(user, method, path, body);
      expect(answer.status, `${user} ${method} ${path}`).toBe(status);
      expect(answer.body.error.code).toEqual(expect.any(String));
    }
    expect(await indexed('m5')).toEqual(before);
  });

  it("refuses another conversation's message (404) and a foreign one inside the window (403), and writes nothing", async () => {
    // A message of a conversation pa is not in: named under pa's own conversation it is unknown there.
    const other = await createConversation(server, 'pb', ['pc']);
    expect((await call('pb', 'POST', `/api/conversations/${other}/messages`, { id: 'elsewhere-1', text: 'elsewhere' })).status).toBe(201);
    const elsewhere = async () => (await call('pb', 'GET', `/api/conversations/${other}/messages/elsewhere-1`)).body.message;
    const untouched = await elsewhere();
    for (const user of ['pa', 'pb']) {
      for (const [method, path, body] of [
        ['PATCH', url('/elsewhere-1'), { text: 'moved in' }],
        ['DELETE', url('/elsewhere-1'), undefined],
        ['PUT', url('/elsewhere-1/reactions/x'), undefined],
        ['DELETE', url('/elsewhere-1/reactions/x'), undefined],
        ['POST', `/api/conversations/${id}/read`, { messageId: 'elsewhere-1' }],
      ] as const) {
        const answer = await call(user, method, path, body);
        expect(answer.status, `${user} ${method} ${path}`).toBe(404);
        expect(answer.body.error.code).toBe('not_found');
      }
    }
    expect(await elsewhere()).toEqual(untouched);

    // The newest message is in the live window: a foreign edit or deletion is refused there too, the document unchanged.
    const client = await connectUser(server, 'pa');
    clients.push(client);
    const live = client.open(conversationDocName(id));
    await live.synced;
    const newest = `m${COUNT}`;
    const before = messageToJSON(findMessage(live.doc, newest)!.map);
    const indexedBefore = (await call('pa', 'GET', url(`/${newest}`))).body.message;
    for (const [user, method, path, body] of [
      ['pb', 'PATCH', url(`/${newest}`), { text: 'not mine' }],
      ['pb', 'DELETE', url(`/${newest}`), undefined],
      ['pc', 'PUT', url(`/${newest}/reactions/x`), undefined],
    ] as const) {
      const answer = await call(user, method, path, body);
      expect(answer.status, `${user} ${method} ${path}`).toBe(403);
      expect(answer.body.error.code).toEqual(expect.any(String));
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(messageToJSON(findMessage(live.doc, newest)!.map)).toEqual(before);
    expect((await call('pa', 'GET', url(`/${newest}`))).body.message).toEqual(indexedBefore);
  });

  it('a refusal only the update validator knows (too many reactions) answers 409 and stores nothing', async () => {
    const max = DEFAULTS.reactionsMaxPerUserPerMessage;
    for (let k = 0; k < max; k++) expect((await call('pb', 'PUT', url(`/m7/reactions/e${k}`))).status).toBe(200);
    const over = await call('pb', 'PUT', url('/m7/reactions/one-too-many'));
    expect(over.status).toBe(409);
    expect(over.body.error).toMatchObject({ code: 'limit_reached', details: { reason: 'too-many-entries' } });
    expect(Object.keys((await indexed('m7')).reactions)).toHaveLength(max);
    const metrics = await fetch(`${server.httpUrl}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/parley_updates_rejected_total\{reason="too-many-entries"\} [1-9]/);
  });
});
