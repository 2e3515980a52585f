import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServerFailure, UpdateRejection, appendMessage } from '@parley/schema';
import { startServer, type TestServer } from '../../../e2e/fixtures/server';
import { eventually, nodeSession } from '../testing/nodeClient';
import type { Session } from './Session';

let server: TestServer;
const sessions: Session[] = [];
const open = (userId: string, options: Parameters<typeof nodeSession>[2] = {}) => {
  const session = nodeSession(server, userId, options);
  sessions.push(session);
  return session;
};

beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await Promise.all(sessions.map((s) => s.destroy()));
  await server?.stop();
});

describe('Session against a real server', () => {
  let alice: Session;
  let bob: Session;
  let id: string;

  beforeAll(async () => {
    alice = open('alice');
    bob = open('bob');
    await Promise.all([alice.start(), bob.start()]);
    await alice.whenSynced();
    id = await alice.startDirect('bob');
    await eventually(() => bob.conversationIds().includes(id), 10_000, 'bob to learn of the conversation');
    await Promise.all([alice.whenSynced(), bob.whenSynced()]);
  });

  it('sends: saving locally, sent once acknowledged, received once by the other member', async () => {
    const chat = alice.conversation(id);
    const messageId = chat.send('hello bob');
    // Its IndexedDB write has not committed yet (saving -> pending is LocalDurability.test.ts).
    expect(chat.snapshot().messages.at(-1)).toMatchObject({ id: messageId, status: 'saving', text: 'hello bob' });
    await eventually(() => chat.snapshot().messages.at(-1)?.status === 'sent', 5_000, 'sent');
    const bobChat = bob.conversation(id);
    await eventually(() => bobChat.snapshot().messages.some((m) => m.id === messageId));
    expect(bobChat.snapshot().messages.filter((m) => m.id === messageId)).toHaveLength(1);
    expect(bobChat.snapshot().unread).toBeGreaterThanOrEqual(1);
  });

  it('marks read: the other member sees two ticks and unread drops to zero', async () => {
    const bobChat = bob.conversation(id);
    expect(bobChat.markRead()).toBe(true);
    expect(bobChat.snapshot().unread).toBe(0);
    const last = alice.conversation(id).snapshot().messages.at(-1)!;
    await eventually(() => alice.conversation(id).snapshot().messages.find((m) => m.id === last.id)?.status === 'read', 5_000, 'read');
    expect(alice.conversation(id).snapshot().messages.find((m) => m.id === last.id)?.readBy).toEqual(['bob']);
  });

  it('edits, reacts, replies and soft-deletes', async () => {
    const chat = alice.conversation(id);
    const bobChat = bob.conversation(id);
    const original = chat.send('tpyo');
    expect(chat.edit(original, 'typo')).toBe(true);
    expect(bobChat.react(original, '👍') || true).toBe(true);
    await eventually(() => bobChat.snapshot().messages.some((m) => m.id === original && m.text === 'typo'));
    expect(bobChat.react(original, '👍')).toBe(true);
    const reply = bobChat.reply(original, 'fixed it?');
    await eventually(() => {
      const seen = chat.snapshot().messages;
      return seen.find((m) => m.id === original)?.reactions['bob:👍'] !== undefined && seen.some((m) => m.id === reply && m.replyTo === original);
    });
    expect(chat.snapshot().messages.find((m) => m.id === original)?.editedAt).toBeTypeOf('number');
    expect(bobChat.edit(original, 'not mine')).toBe(false);
    expect(bobChat.remove(original)).toBe(false);
    expect(chat.remove(original)).toBe(true);
    await eventually(() => bobChat.snapshot().messages.find((m) => m.id === original)?.deletedAt !== undefined);
    expect(bobChat.snapshot().messages.find((m) => m.id === original)?.text).toBe('');
    expect(bobChat.toggleReaction(reply, '🎉')).toBe(true);
    expect(bobChat.toggleReaction(reply, '🎉')).toBe(true);
    expect(bobChat.snapshot().messages.find((m) => m.id === reply)?.reactions).toEqual({});
  });

  it('shows who is typing and who is here', async () => {
    const chat = alice.conversation(id);
    await eventually(() => chat.snapshot().here.includes('bob'), 5_000, 'bob here');
    expect(alice.isOnline('bob')).toBe(true);
    bob.conversation(id).setTyping(true);
    await eventually(() => chat.snapshot().typing.includes('bob'), 5_000, 'typing on');
    bob.conversation(id).setTyping(false);
    await eventually(() => chat.snapshot().typing.length === 0, 5_000, 'typing off');
  });

  it('lists conversations with last message and unread count', async () => {
    const entry = bob.conversationList().find((c) => c.id === id)!;
    expect(entry.members.sort()).toEqual(['alice', 'bob']);
    expect(entry.title).toBe('alice');
    expect(entry.lastMessage?.text).toBeTypeOf('string');
    expect(entry.online).toBe(true);
  });

  it('reads, unreads, reads all and archives notifications, and the server agrees', async () => {
    const bobToken = await server.token('bob');
    const unreadOnServer = async () => (await server.api('/api/notifications/unread-count', { token: bobToken })).body.count as number;
    const before = bob.inbox.snapshot().notifications.length;
    const ping = alice.conversation(id).send('ping for the bell');
    // The notification about this very message: one still about an earlier message would be
    // followed by a new one once the ping is notified, and unread would not stay at 0.
    const aboutPing = () => bob.inbox.snapshot().notifications.find((n) => n.readAt === null && n.data.messageId === ping);
    await eventually(() => aboutPing() !== undefined, 10_000, 'a notification about the ping');
    const notification = aboutPing()!;
    expect(notification).toMatchObject({ kind: 'new_message', data: { conversationId: id } });
    expect(bob.inbox.snapshot().notifications.length).toBeGreaterThan(before - 1);

    expect(bob.inbox.markRead(notification.id)).toBe(true);
    expect(bob.inbox.snapshot().unreadCount).toBe(0);
    await bob.whenSynced();
    await eventually(async () => (await unreadOnServer()) === 0, 5_000, 'server unread 0');

    expect(bob.inbox.markUnread(notification.id)).toBe(true);
    expect(bob.inbox.snapshot().unreadCount).toBe(1);
    await bob.whenSynced();
    await eventually(async () => (await unreadOnServer()) === 1, 5_000, 'server unread 1');

    expect(bob.inbox.markAllRead()).toBe(1);
    expect(bob.inbox.snapshot().unreadCount).toBe(0);
    expect(bob.inbox.archive(notification.id)).toBe(true);
    expect(bob.inbox.snapshot().notifications.find((n) => n.id === notification.id)?.archivedAt).toBeTypeOf('number');
    await bob.whenSynced();
    await eventually(async () => (await unreadOnServer()) === 0, 5_000, 'server unread 0 again');
    expect(bob.inbox.markRead('no-such-notification')).toBe(false);
  });

  it('writes preferences and mutes through the inbox once the server made the maps', async () => {
    await alice.inbox.setChannels('new_message', { inApp: true, push: false, email: false });
    await alice.inbox.mute(id, Date.now() + 3600_000);
    expect(alice.inbox.snapshot().prefs.channels.new_message).toEqual({ inApp: true, push: false, email: false });
    await alice.whenSynced();
    const prefs = await server.api('/api/notifications/preferences', { token: await server.token('alice') });
    expect(prefs.status).toBe(200);
    expect(prefs.body.muted[id]).toBeGreaterThan(Date.now());
    expect(prefs.body.channels.new_message).toEqual({ inApp: true, push: false, email: false });
    await alice.inbox.mute(id, null);
    expect(alice.inbox.snapshot().prefs.muted[id]).toBeUndefined();
  });

  it('reconnects with a fresh token when the server closes the socket at expiry', async () => {
    let minted = 0;
    const carol = open('carol', {
      fetchToken: async () => {
        minted++;
        return { token: await server.token('carol', { expiresIn: 2 }), userId: 'carol', name: 'carol', expiresAt: Date.now() + 2_000 };
      },
    });
    await carol.start();
    const direct = await carol.startDirect('alice');
    await carol.whenSynced();
    const firstMinted = minted;
    await new Promise((resolve) => setTimeout(resolve, 3_500));
    const sent = carol.conversation(direct).send('after expiry');
    await eventually(() => carol.conversation(direct).snapshot().messages.find((m) => m.id === sent)?.status === 'sent', 10_000, 'sent with a new token');
    expect(minted).toBeGreaterThan(firstMinted);
  });

  it('forgets a conversation the user was removed from, with its local replica', async () => {
    const created = await server.api('/api/conversations', { token: await server.token('alice'), body: { members: ['bob'], title: 'short-lived', kind: 'group' } });
    const group: string = created.body.id;
    await eventually(() => bob.conversationIds().includes(group), 10_000, 'bob to see the group');
    await eventually(() => bob.conversation(group).snapshot().synced, 10_000, 'group synced');
    const errors: string[] = [];
    const off = bob.on('error', (e) => errors.push(`${e.recovery}:${e.reason}`));
    const removed = await server.api(`/api/conversations/${group}/members/bob`, { method: 'DELETE', token: await server.token('alice') });
    expect(removed.status).toBe(200);
    await eventually(() => !bob.conversationIds().includes(group), 10_000, 'the group to be forgotten');
    off();
    expect(errors).toContain('forgotten:forbidden');
    await eventually(() => bob.connection().state === 'synced', 10_000, 'bob synced without it');
  });

  it('recovers from a refused update: drops the replica, resyncs, reports the error', async () => {
    const chat = alice.conversation(id);
    const before = chat.snapshot().messages.length;
    const errors: string[] = [];
    alice.on('error', (e) => errors.push(e.reason));
    // Only the server writes meta: this update is refused.
    chat.replica.doc.getMap('meta').set('title', 'hijacked');
    await eventually(() => errors.length > 0, 5_000, 'a rejection');
    expect(errors[0]).toBe(UpdateRejection.serverOnly);
    await eventually(() => chat.snapshot().synced && chat.snapshot().messages.length === before, 10_000, 'resync');
    expect(chat.snapshot().meta?.title).not.toBe('hijacked');
    const after = chat.send('still works');
    await eventually(() => chat.snapshot().messages.find((m) => m.id === after)?.status === 'sent', 5_000, 'sent after reset');
  });

  it('keeps honest messages synced together with a refused change, and those sent while the replica is rebuilt', async () => {
    const chat = alice.conversation(id);
    const errors: string[] = [];
    const off = alice.on('error', (e) => errors.push(e.reason));
    alice.goOffline();
    const before = chat.send('written offline, before the bad change');
    chat.replica.doc.getMap('meta').set('title', 'hijacked offline'); // refused: only the server writes meta
    const alongside = chat.send('written offline, after the bad change');
    alice.goOnline();
    await eventually(() => errors.length > 0, 10_000, 'the refusal');
    const during = chat.send('sent while the replica is rebuilt');
    const expected = [before, alongside, during];
    const bobChat = bob.conversation(id);
    await eventually(() => expected.every((m) => bobChat.snapshot().messages.some((x) => x.id === m)), 15_000, 'bob to receive all three').catch((error: unknown) => {
      const seen = (chatOf: typeof chat) => expected.map((m) => chatOf.snapshot().messages.find((x) => x.id === m)?.status ?? 'missing');
      throw new Error(`${String(error)}; bob: ${seen(bobChat)}; alice: ${seen(chat)}; errors: ${errors}; alice connection: ${alice.connection().state}, synced ${chat.snapshot().synced}`);
    });
    await eventually(() => expected.every((m) => chat.snapshot().messages.find((x) => x.id === m)?.status !== 'pending'), 10_000, 'alice to see them acknowledged');
    off();
    const ids = bobChat.snapshot().messages.map((m) => m.id);
    for (const m of expected) expect(ids.filter((x) => x === m)).toHaveLength(1);
    expect(bobChat.snapshot().meta?.title).not.toBe('hijacked offline');
  });

  it('keeps its replica when the server lacks a change its next one builds on, and both land once', async () => {
    const chat = alice.conversation(id);
    const errors: string[] = [];
    const closes: string[] = [];
    const offErrors = alice.on('error', (e) => errors.push(e.reason));
    const offCloses = chat.replica.on('closed', ({ reason }) => closes.push(reason));
    // A change in the replica that never reached the server (as after a write that failed): made
    // with the provider's own origin, which the provider does not send.
    const lost = 'lost-on-the-way';
    chat.replica.doc.transact(() => appendMessage(chat.replica.doc, { id: lost, author: 'alice', text: 'never reached the server' }), chat.replica.provider);
    // The next message builds on it: the server asks for a resync instead of refusing it.
    const next = chat.send('builds on the lost one');
    const bobChat = bob.conversation(id);
    await eventually(() => [lost, next].every((m) => bobChat.snapshot().messages.some((x) => x.id === m)), 15_000, 'bob to receive both');
    await eventually(() => chat.snapshot().messages.find((x) => x.id === next)?.status === 'sent', 10_000, 'acknowledged');
    offErrors();
    offCloses();
    expect(closes).toContain(ServerFailure.resyncNeeded);
    // Nothing refused, nothing rebuilt (a refusal resets the replica and reports an error).
    expect(errors).toEqual([]);
    const ids = bobChat.snapshot().messages.map((m) => m.id);
    for (const m of [lost, next]) expect(ids.filter((x) => x === m)).toHaveLength(1);
  });
});
