/**
 * Offline edge cases, each against a real server: the server must accept
 * everything (no refusal reaches the client) and both members end equal.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readMessages } from '@parley/schema';
import { startServer, type TestServer } from '../../../e2e/fixtures/server';
import { eventually, nodeSession } from '../testing/nodeClient';
import type { Session } from './Session';

let server: TestServer;
const sessions: Session[] = [];
beforeAll(async () => { server = await startServer(); });
afterAll(async () => {
  await Promise.all(sessions.map((s) => s.destroy()));
  await server?.stop();
});

const reopen = async (a: Session, id: string) => {
  const prefix = a.options.storagePrefix!;
  await a.destroy();
  const n = nodeSession(server, a.identity.userId, { storagePrefix: prefix });
  sessions.push(n);
  await n.start();
  await n.conversation(id).replica.whenLoaded();
  return n;
};
let current: Session | null = null;
const scenarios: Record<string, (a: Session, b: Session, id: string) => Promise<void>> = {
  restartRightAfterSend: async (a, _b, id) => { const m = a.conversation(id).send('x'); a.conversation(id).edit(m, 'y'); current = await reopen(a, id); current.conversation(id).send('after'); },
  restartOffline: async (a, _b, id) => { a.goOffline(); const m = a.conversation(id).send('x'); a.conversation(id).edit(m, 'y'); current = await reopen(a, id); current.conversation(id).send('after'); },
  restartOfflineStayOffline: async (a, _b, id) => { a.goOffline(); const m = a.conversation(id).send('x'); current = await reopen(a, id); current.goOffline(); current.conversation(id).edit(m, 'y2'); current.conversation(id).send('after'); current.goOnline(); },

  createEditOffline: async (a, _b, id) => { a.goOffline(); const m = a.conversation(id).send('x'); a.conversation(id).edit(m, 'y'); a.conversation(id).edit(m, 'z'); a.goOnline(); },
  editOnlineCreated: async (a, _b, id) => { const m = a.conversation(id).send('x'); await a.whenSynced(); a.goOffline(); a.conversation(id).edit(m, 'y'); a.conversation(id).edit(m, 'z'); a.goOnline(); },
  createDeleteOffline: async (a, _b, id) => { a.goOffline(); const m = a.conversation(id).send('x'); a.conversation(id).remove(m); a.goOnline(); },
  flipBeforeAck: async (a, _b, id) => { const m = a.conversation(id).send('x'); a.goOffline(); a.conversation(id).edit(m, 'q'); a.goOnline(); },
  reactOffline: async (a, b, id) => { const m = b.conversation(id).send('from b'); await eventually(() => a.conversation(id).snapshot().messages.some((x) => x.id === m)); a.goOffline(); a.conversation(id).toggleReaction(m, '👍'); a.conversation(id).toggleReaction(m, '👍'); a.conversation(id).toggleReaction(m, '🎉'); a.goOnline(); },
  editOthersReplyOffline: async (a, b, id) => { const m = b.conversation(id).send('from b'); await eventually(() => a.conversation(id).snapshot().messages.some((x) => x.id === m)); a.goOffline(); const r = a.conversation(id).reply(m, 'r'); a.conversation(id).edit(r, 'r2'); a.conversation(id).toggleReaction(r, '👍'); a.goOnline(); },
  sendAndReactOffline: async (a, _b, id) => { a.goOffline(); const m = a.conversation(id).send('x'); a.conversation(id).react(m, '👍'); a.goOnline(); },
  sendWhileConnecting: async (a, _b, id) => { a.goOffline(); a.conversation(id).send('o1'); a.goOnline(); const m = a.conversation(id).send('o2'); a.conversation(id).edit(m, 'o3'); },
};

for (const [name, run] of Object.entries(scenarios)) {
  it(name, async () => {
    const a = nodeSession(server, `a-${name}`); const b = nodeSession(server, `b-${name}`);
    sessions.push(a, b);
    await Promise.all([a.start(), b.start()]);
    const id = await a.startDirect(`b-${name}`);
    await eventually(() => b.conversationIds().includes(id));
    await Promise.all([a.whenSynced(), b.whenSynced()]);
    const errors: string[] = [];
    a.on('error', (e) => errors.push(e.reason));
    current = null;
    await run(a, b, id);
    const live = current ?? a;
    (live as Session).on('error', (e) => errors.push(e.reason));
    await new Promise((r) => setTimeout(r, 300));
    await eventually(() => (live as Session).connection().state === 'synced', 10000, 'synced');
    expect(errors).toEqual([]);
    const mine = () => readMessages((live as Session).conversation(id).replica.doc);
    await eventually(() => JSON.stringify(readMessages(b.conversation(id).replica.doc).map((m) => [m.id, m.text])) === JSON.stringify(mine().map((m) => [m.id, m.text])), 10_000, 'both members equal');
    expect((live as Session).conversation(id).snapshot().pending).toBe(0);
  });
}
