/**
 * Mentions, blocking and reports (issue 14, items 2-4; CONTRACT sections 3, 4
 * and 6) on a real server: a mention notifies through a mute and only names
 * members; a block stops a direct conversation and every notification of the
 * blocked user's; a report reaches the admin, who deletes the message and
 * closes the report, and the reporter hears back. Bad input gets the
 * contract's error and leaves nothing behind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS, appendMessage, conversationDocName, findMessage, type Notification } from '@parley/schema';
import { startServer, type TestServer } from './fixtures/server';
import { connectUser, waitFor, type UserClient } from './fixtures/clients';

let server: TestServer;
const clients: UserClient[] = [];
const tokens: Record<string, string> = {};

beforeAll(async () => {
  server = await startServer();
  for (const user of ['ann', 'ben', 'cat', 'dan', 'eve', 'fay', 'gil', 'hal', 'ivy']) tokens[user] = await server.token(user, { name: user.toUpperCase() });
  tokens.mod = await server.token('mod', { roles: ['admin'], name: 'Moderator' });
}, 60_000);
afterAll(async () => {
  for (const c of clients) c.destroy();
  await server?.stop();
});

const call = (user: string, method: string, path: string, body?: unknown) => server.api(path, { token: tokens[user], method, ...(body !== undefined && { body }) });
async function group(owner: string, members: string[], title: string): Promise<string> {
  const answer = await call(owner, 'POST', '/api/conversations', { members, title });
  expect(answer.status).toBe(201);
  return answer.body.id as string;
}
async function notificationsOf(user: string): Promise<Notification[]> {
  return (await call(user, 'GET', '/api/notifications?limit=200&archived=1')).body.notifications as Notification[];
}
async function eventuallyNotified(user: string, test: (n: Notification) => boolean, what: string): Promise<Notification> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const found = (await notificationsOf(user)).find(test);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
/** Longer than the chat notifier's grace and the mention queue's wake-up, so "nothing arrived" means nothing will. */
const settle = () => new Promise((r) => setTimeout(r, DEFAULTS.chatNotifyGraceMs + 1_500));
const history = async (user: string, id: string) => (await call(user, 'GET', `/api/conversations/${id}/messages?limit=200`)).body.messages as Array<{ id: string }>;
const ofKind = (list: Notification[], kind: string, conversationId: string) => list.filter((n) => n.kind === kind && n.data.conversationId === conversationId);

describe('mentions', () => {
  it('notify a member who muted the conversation, once, also after a resync and a restart', async () => {
    const id = await group('ann', ['ben', 'cat'], 'Kitchen');
    const muted = await call('ben', 'PUT', '/api/notifications/preferences', { muted: { [id]: Date.now() + 3_600_000 } });
    expect(muted.status).toBe(200);
    const ann = await connectUser(server, 'ann', { token: tokens.ann });
    clients.push(ann);
    const a = ann.open(conversationDocName(id));
    await a.synced;
    appendMessage(a.doc, { id: 'mention-1', author: 'ann', text: '@BEN can you check the tap?', mentions: ['ben'] });
    await a.acknowledged();

    const mention = await eventuallyNotified('ben', (n) => n.kind === 'mention' && n.data.messageId === 'mention-1', 'ben mentioned');
    expect(mention).toMatchObject({ body: '@BEN can you check the tap?', readAt: null, data: { conversationId: id, actor: 'ann', messageId: 'mention-1' } });
    expect(mention.title).toBe('ANN mentioned you in Kitchen');
    // Cat, not mentioned, gets the ordinary chat notification; ben's mute holds that back.
    await eventuallyNotified('cat', (n) => n.kind === 'new_message' && n.data.conversationId === id, 'cat notified');
    expect(ofKind(await notificationsOf('cat'), 'mention', id)).toEqual([]);
    expect(ofKind(await notificationsOf('ben'), 'new_message', id)).toEqual([]);

    // A second replica with the same state resyncs it; then the server restarts and replays its work.
    const again = await connectUser(server, 'ann', { token: tokens.ann });
    clients.push(again);
    const b = again.open(conversationDocName(id));
    await b.synced;
    await settle();
    await server.restart();
    await settle();
    expect(ofKind(await notificationsOf('ben'), 'mention', id)).toHaveLength(1);
  }, 60_000);

  it('notify after a kill -9 right after the acknowledgement (the job is stored with the message)', async () => {
    const id = await group('ann', ['ben'], 'Shed');
    const ann = await connectUser(server, 'ann', { token: tokens.ann });
    try {
      const a = ann.open(conversationDocName(id));
      await a.synced;
      appendMessage(a.doc, { id: 'before-kill', author: 'ann', text: '@BEN quick', mentions: ['ben'] });
      await a.acknowledged();
      await server.kill();
    } finally {
      ann.destroy();
    }
    await server.restart();
    await eventuallyNotified('ben', (n) => n.kind === 'mention' && n.data.messageId === 'before-kill', 'the mention after the restart');
    await settle();
    expect(ofKind(await notificationsOf('ben'), 'mention', id)).toHaveLength(1);
  }, 60_000);

  it('refuse a stranger over the WebSocket and over REST, storing nothing', async () => {
    const id = await group('ann', ['ben'], 'Porch');
    const ann = await connectUser(server, 'ann', { token: tokens.ann });
    clients.push(ann);
    const a = ann.open(conversationDocName(id));
    await a.synced;
    appendMessage(a.doc, { id: 'to-stranger', author: 'ann', text: 'hey @ivy', mentions: ['ivy'] });
    await waitFor(() => a.closeReasons.includes('invalid-mention'), 10_000, 'the refusal');

    const rest = await call('ann', 'POST', `/api/conversations/${id}/messages`, { id: 'to-stranger-2', text: 'hey @ivy', mentions: ['ivy'] });
    expect(rest.status).toBe(400);
    expect(rest.body.error).toMatchObject({ code: 'validation_failed', details: { reason: 'invalid-mention' } });
    expect(rest.body.error.message).toContain('ivy is not a member');
    const twice = await call('ann', 'POST', `/api/conversations/${id}/messages`, { text: 'hi', mentions: ['ben', 'ben'] });
    expect(twice.status).toBe(400);

    expect((await history('ann', id)).map((m) => m.id)).toEqual([]);
    await settle();
    expect(ofKind(await notificationsOf('ivy'), 'mention', id)).toEqual([]);
  }, 30_000);

  it('an edit that adds a mention notifies the new member only; a deletion erases the quote', async () => {
    const id = await group('ann', ['ben', 'cat'], 'Garden');
    const sent = await call('ann', 'POST', `/api/conversations/${id}/messages`, { id: 'g1', text: 'ben, the hedge', mentions: ['ben'] });
    expect(sent.status).toBe(201);
    await eventuallyNotified('ben', (n) => n.kind === 'mention' && n.data.messageId === 'g1', 'ben mentioned');
    const stranger = await call('ann', 'PATCH', `/api/conversations/${id}/messages/g1`, { text: 'ben and ivy', mentions: ['ben', 'ivy'] });
    expect(stranger.status).toBe(400);
    expect(stranger.body.error.details).toEqual({ reason: 'invalid-mention' });
    const edited = await call('ann', 'PATCH', `/api/conversations/${id}/messages/g1`, { text: 'ben and cat, the hedge', mentions: ['ben', 'cat'] });
    expect(edited.status).toBe(200);
    await eventuallyNotified('cat', (n) => n.kind === 'mention' && n.data.messageId === 'g1', 'cat mentioned by the edit');
    await settle();
    expect(ofKind(await notificationsOf('ben'), 'mention', id)).toHaveLength(1);
    // Ben, not muted, was told by the mention: no chat notification for the same message.
    expect(ofKind(await notificationsOf('ben'), 'new_message', id)).toEqual([]);

    expect((await call('ann', 'DELETE', `/api/conversations/${id}/messages/g1`)).status).toBe(200);
    const deadline = Date.now() + 10_000;
    while (ofKind(await notificationsOf('ben'), 'mention', id)[0]?.body !== 'Message deleted' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(ofKind(await notificationsOf('ben'), 'mention', id)[0]?.body).toBe('Message deleted');
    expect(JSON.stringify(await notificationsOf('cat'))).not.toContain('the hedge');
  }, 30_000);
});

describe('blocking', () => {
  it('is refused for oneself, and listed, idempotent and undone', async () => {
    const self = await call('dan', 'PUT', '/api/users/me/blocks/dan');
    expect(self.status).toBe(400);
    expect(self.body.error.code).toBe('validation_failed');
    expect((await call('dan', 'GET', '/api/users/me/blocks')).body.blocks).toEqual([]);
    const bad = await call('dan', 'PUT', '/api/users/me/blocks/__proto__');
    expect(bad.status).toBe(400);

    const first = await call('dan', 'PUT', '/api/users/me/blocks/eve');
    expect(first.status).toBe(200);
    expect(first.body.block).toMatchObject({ userId: 'eve', createdAt: expect.any(Number) });
    expect((await call('dan', 'PUT', '/api/users/me/blocks/eve')).body.block.createdAt).toBe(first.body.block.createdAt);
    expect((await call('dan', 'GET', '/api/users/me/blocks')).body.blocks.map((b: { userId: string }) => b.userId)).toEqual(['eve']);
    // Blocking is private: the blocked user's own list says nothing of it.
    expect((await call('eve', 'GET', '/api/users/me/blocks')).body.blocks).toEqual([]);
  });

  it('stops the blocked user from starting a direct conversation, existing or not', async () => {
    const refused = await call('eve', 'POST', '/api/conversations', { members: ['dan'] });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('forbidden');
    expect(refused.body.error.message).not.toMatch(/block/i);
    expect((await call('dan', 'GET', '/api/conversations')).body.conversations.filter((c: { kind: string }) => c.kind === 'direct')).toEqual([]);
    // The blocker may still open one; the blocked user still cannot (get-or-create is a start too).
    const byDan = await call('dan', 'POST', '/api/conversations', { members: ['eve'] });
    expect(byDan.status).toBe(201);
    expect((await call('eve', 'POST', '/api/conversations', { members: ['dan'] })).status).toBe(403);
    // Others are not affected.
    expect((await call('fay', 'POST', '/api/conversations', { members: ['dan'] })).status).toBe(201);
  });

  it('keeps everything the blocked user writes from notifying the blocker, until unblocked', async () => {
    const id = await group('fay', ['dan', 'eve'], 'Street');
    const blocked = await call('eve', 'POST', `/api/conversations/${id}/messages`, { id: 's1', text: 'hello @DAN', mentions: ['dan'] });
    expect(blocked.status).toBe(201);
    await eventuallyNotified('fay', (n) => n.kind === 'new_message' && n.data.conversationId === id, 'fay notified');
    await settle();
    expect((await notificationsOf('dan')).filter((n) => n.data.conversationId === id)).toEqual([]);
    const summary = (await call('dan', 'GET', '/api/conversations')).body.conversations.find((c: { id: string }) => c.id === id);
    expect(summary).toBeDefined();

    expect((await call('dan', 'DELETE', '/api/users/me/blocks/eve')).body).toEqual({ userId: 'eve', unblocked: true });
    expect((await call('dan', 'DELETE', '/api/users/me/blocks/eve')).body).toEqual({ userId: 'eve', unblocked: false });
    await call('eve', 'POST', `/api/conversations/${id}/messages`, { id: 's2', text: 'hello again @DAN', mentions: ['dan'] });
    await eventuallyNotified('dan', (n) => n.kind === 'mention' && n.data.messageId === 's2', 'dan mentioned once unblocked');
  }, 30_000);
});

describe('reports', () => {
  let id: string;
  beforeAll(async () => {
    id = await group('gil', ['hal'], 'Yard');
    expect((await call('hal', 'POST', `/api/conversations/${id}/messages`, { id: 'bad', text: 'buy cheap watches' })).status).toBe(201);
  });

  it('refuses bad reports with the contract errors and stores none of them', async () => {
    const path = (messageId: string) => `/api/conversations/${id}/messages/${messageId}/report`;
    expect((await call('gil', 'POST', path('nope'), { reason: 'spam' })).status).toBe(404);
    const foreign = await call('ivy', 'POST', path('bad'), { reason: 'spam' });
    expect(foreign.status).toBe(403);
    expect(foreign.body.error.code).toBe('forbidden');
    expect((await call('gil', 'POST', `/api/conversations/nowhere/messages/bad/report`, { reason: 'spam' })).status).toBe(404);
    expect((await call('gil', 'POST', path('bad'), { reason: '   ' })).status).toBe(400);
    expect((await call('gil', 'POST', path('bad'), { reason: 'x'.repeat(DEFAULTS.reportReasonMaxLength + 1) })).status).toBe(400);
    expect((await call('gil', 'POST', path('bad'), {})).status).toBe(400);
    expect((await call('gil', 'GET', '/api/admin/reports')).status).toBe(403);
    expect((await call('mod', 'GET', '/api/admin/reports')).body.reports).toEqual([]);
  });

  it('reach the admin, who opens the conversation, deletes the message and closes the report; the reporter hears back', async () => {
    const path = `/api/conversations/${id}/messages/bad/report`;
    const made = await call('gil', 'POST', path, { reason: '  spam  ' });
    expect(made.status).toBe(201);
    expect(made.body.report).toMatchObject({ conversationId: id, messageId: 'bad', reporter: 'gil', reason: 'spam', closedAt: null });
    const twice = await call('gil', 'POST', path, { reason: 'spam again' });
    expect(twice.status).toBe(409);
    expect(twice.body.error.code).toBe('conflict');

    const listed = await call('mod', 'GET', '/api/admin/reports');
    expect(listed.status).toBe(200);
    expect(listed.body.reports).toHaveLength(1);
    expect(listed.body.reports[0]).toMatchObject({
      id: made.body.report.id,
      reporter: 'gil',
      reason: 'spam',
      conversation: { id, title: 'Yard', kind: 'group' },
      message: { id: 'bad', author: 'hal', text: 'buy cheap watches' },
    });

    // The admin is no member, and still opens the conversation and sees the message.
    const mod = await connectUser(server, 'mod', { token: tokens.mod });
    clients.push(mod);
    const open = mod.open(conversationDocName(id));
    await open.synced;
    expect(findMessage(open.doc, 'bad')?.map.get('text')).toBe('buy cheap watches');
    const deleted = await call('mod', 'DELETE', `/api/conversations/${id}/messages/bad`);
    expect(deleted.status).toBe(200);
    expect(deleted.body.message).toMatchObject({ text: '', deletedAt: expect.any(Number) });
    await waitFor(() => findMessage(open.doc, 'bad')?.map.get('deletedAt') !== undefined, 10_000, 'the deletion reaches the admin');

    const closed = await call('mod', 'POST', `/api/admin/reports/${made.body.report.id}/close`);
    expect(closed.status).toBe(200);
    expect(closed.body.report).toMatchObject({ closedBy: 'mod', closedAt: expect.any(Number) });
    const handled = await eventuallyNotified('gil', (n) => n.kind === 'report_handled', 'the reporter told');
    expect(handled).toMatchObject({ title: 'Your report was handled', data: { conversationId: id, entity: { type: 'report', id: made.body.report.id } } });
    expect(JSON.stringify(handled)).not.toContain('watches');
    expect((await call('mod', 'GET', '/api/admin/reports')).body.reports).toEqual([]);
    expect((await call('mod', 'GET', '/api/admin/reports?state=closed')).body.reports[0].message).toMatchObject({ text: '', deletedAt: expect.any(Number) });

    // Closing again answers the report as closed and tells nobody twice.
    const again = await call('mod', 'POST', `/api/admin/reports/${made.body.report.id}/close`);
    expect(again.status).toBe(200);
    expect(again.body.report.closedAt).toBe(closed.body.report.closedAt);
    expect((await notificationsOf('gil')).filter((n) => n.kind === 'report_handled')).toHaveLength(1);
    expect((await call('mod', 'POST', '/api/admin/reports/999999/close')).status).toBe(404);
    expect((await call('mod', 'POST', '/api/admin/reports/abc/close')).status).toBe(400);
    expect((await call('hal', 'POST', `/api/admin/reports/${made.body.report.id}/close`)).status).toBe(403);
  }, 30_000);
});
