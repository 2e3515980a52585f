/**
 * A replica that sleeps through a renewal of the live document (issue 9,
 * item 2) with changes that have no Yjs item of their own: an own reaction
 * taken back offline. The SDK (RenewalRecovery with ReactionRemovals) makes
 * the removal again on the new epoch, in the live document for a message still
 * in the window, over REST for one that left it; the reaction does not come
 * back, on the server or on any replica, and another reaction of the same
 * message stays. Real server (LIVE_WINDOW_MESSAGES=5: renewed past 10
 * messages), real WebSockets, IndexedDB from fake-indexeddb, also across a
 * "reload" while offline.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message } from '@parley/schema';
import { startServer, type TestServer } from './fixtures/server';
import { eventually, nodeSession } from '../client/src/testing/nodeClient';
import type { Session } from '../client/src/sdk/Session';

const WINDOW = 5;
let server: TestServer;
const sessions: Session[] = [];

beforeAll(async () => {
  server = await startServer({ env: { LIVE_WINDOW_MESSAGES: String(WINDOW) } });
}, 30_000);
afterAll(async () => {
  await Promise.all(sessions.map((s) => s.destroy()));
  await server?.stop();
});

function session(userId: string, storagePrefix?: string): Session {
  const made = nodeSession(server, userId, storagePrefix ? { storagePrefix } : {});
  sessions.push(made);
  return made;
}

async function serverMessage(reader: string, conversationId: string, messageId: string): Promise<Message> {
  const answer = await server.api(`/api/conversations/${conversationId}/messages/${messageId}`, { token: await server.token(reader) });
  expect(answer.status).toBe(200);
  return answer.body.message;
}

/** B writes until the server renewed the document past `epoch` (B's replica shows the new epoch). */
async function renewPast(b: Session, conversationId: string, epoch: number, tag: string): Promise<void> {
  const chat = b.conversation(conversationId);
  for (let i = 0; (chat.snapshot().meta?.epoch ?? 0) <= epoch; i++) {
    if (i > 4 * WINDOW) throw new Error('no renewal after many messages');
    chat.send(`${tag} ${i}`);
    await b.whenSynced();
  }
}

/** A conversation of a and b with `count` messages from b, each acknowledged; the ids, oldest first. */
async function conversationWith(a: Session, b: Session, other: string, count: number): Promise<{ id: string; messages: string[] }> {
  await Promise.all([a.start(), b.start()]);
  const id = await a.startDirect(other);
  await eventually(() => b.conversationIds().includes(id), 20_000, 'b sees the conversation');
  const messages: string[] = [];
  for (let i = 0; i < count; i++) {
    messages.push(b.conversation(id).send(`m${i}`));
    await b.whenSynced();
  }
  await eventually(() => a.conversation(id).snapshot().messages.length === count, 20_000, 'a has every message');
  return { id, messages };
}

describe('a reaction taken back offline, through a renewal', () => {
  it('stays taken back, in the window (live document) and outside it (REST)', async () => {
    const a = session('rra');
    const b = session('rrb');
    // 9 messages: the renewal at the 11th keeps the newest 5, so m8 stays in the window and m0 leaves it.
    const { id, messages } = await conversationWith(a, b, 'rrb', 9);
    const [old, recent] = [messages[0]!, messages[8]!];
    const chat = a.conversation(id);
    chat.react(old, '👍');
    chat.react(recent, '👍');
    chat.react(recent, '🎉');
    await a.whenSynced();
    expect(Object.keys((await serverMessage('rra', id, recent)).reactions).sort()).toEqual(['rra:🎉', 'rra:👍']);

    a.goOffline();
    chat.react(old, '👍', false);
    chat.react(recent, '👍', false);
    await renewPast(b, id, 0, 'while a sleeps');
    a.goOnline();

    await eventually(
      async () => {
        const [o, r] = await Promise.all([serverMessage('rra', id, old), serverMessage('rra', id, recent)]);
        return !('rra:👍' in o.reactions) && !('rra:👍' in r.reactions);
      },
      30_000,
      'both removals on the server',
    );
    await eventually(() => a.connection().state === 'synced' && a.outbox.waiting === 0, 30_000, 'a settled');
    expect(Object.keys((await serverMessage('rra', id, recent)).reactions)).toEqual(['rra:🎉']);
    expect((await serverMessage('rra', id, old)).reactions).toEqual({});
    // Every replica agrees, and the reaction does not come back.
    for (const who of [a, b]) {
      await eventually(() => Object.keys(who.conversation(id).snapshot().messages.find((m) => m.id === recent)?.reactions ?? {}).join() === 'rra:🎉', 20_000, `${who.identity.userId} shows only 🎉`);
    }
    expect(a.conversation(id).holds(old)).toBe(false);
  }, 120_000);

  it('is carried over after a reload while offline (kept in IndexedDB)', async () => {
    const a = session('rla');
    const b = session('rlb');
    const { id, messages } = await conversationWith(a, b, 'rlb', 9);
    const recent = messages[8]!;
    a.conversation(id).react(recent, '👀');
    await a.whenSynced();

    a.goOffline();
    a.conversation(id).react(recent, '👀', false);
    // The removal is in IndexedDB, then the app closes; the renewal happens while it is closed.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const prefix = a.options.storagePrefix!;
    await a.destroy();
    await renewPast(b, id, 0, 'while a is closed');

    const again = session('rla', prefix);
    again.goOffline();
    await again.start();
    await again.conversation(id).replica.whenLoaded();
    expect(again.conversation(id).snapshot().messages.find((m) => m.id === recent)?.reactions).toEqual({});
    again.goOnline();
    await eventually(() => again.connection().state === 'synced' && (again.conversation(id).snapshot().meta?.epoch ?? 0) >= 1, 30_000, 'a back on the new epoch');
    await eventually(async () => !('rla:👀' in (await serverMessage('rlb', id, recent)).reactions), 20_000, 'the removal on the server');
    await eventually(() => !('rla:👀' in (b.conversation(id).snapshot().messages.find((m) => m.id === recent)?.reactions ?? {})), 20_000, 'b sees it gone');
  }, 120_000);
});
