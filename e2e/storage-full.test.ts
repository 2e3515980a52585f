/**
 * Issue 11, item 3: a full disk. The server runs on a real tiny filesystem
 * (tmpfs) that the test fills to the last byte. No write may be acknowledged
 * while it cannot be stored, the server stays up, everything works again once
 * space returns, nothing acknowledged is lost across a restart, and a replica
 * that received something the server then lost recovers by itself.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { conversationDocName, readMessages } from '@parley/schema';
import { startServer, type TestServer } from './fixtures/server';
import { connectUser, createConversation, waitFor } from './fixtures/clients';
import { canMountTmpfs, mountTinyDisk, type TinyDisk } from './fixtures/tinyDisk';
import { eventually, nodeSession } from '../client/src/testing/nodeClient';
import type { Session } from '../client/src/sdk/Session';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await Promise.resolve(cleanup()).catch(() => {});
});

async function storedIds(server: TestServer, conversationId: string): Promise<string[]> {
  const client = await connectUser(server, 'reader-admin', { roles: ['admin'] });
  try {
    const open = client.open(conversationDocName(conversationId));
    await open.synced;
    return readMessages(open.doc).map((m) => m.id);
  } finally {
    client.destroy();
  }
}

const ids = (session: Session, conversationId: string) => session.conversation(conversationId).snapshot().messages.map((m) => m.id);

describe.skipIf(!canMountTmpfs())('a full disk', () => {
  it('acknowledges nothing it cannot store, stays up, recovers when space returns, and every replica syncs again', async () => {
    const disk: TinyDisk = mountTinyDisk(16 * 1024 * 1024);
    cleanups.push(() => disk.unmount());
    const server = await startServer({ dataDir: disk.dir });
    cleanups.push(() => server.kill());
    const id = await createConversation(server, 'alice', ['bob']);
    const aliceToken = await server.token('alice');
    const send = (text: string, messageId?: string) =>
      server.api(`/api/conversations/${id}/messages`, { token: aliceToken, body: { text, ...(messageId && { id: messageId }) } });

    const alice = nodeSession(server, 'alice');
    const bob = nodeSession(server, 'bob');
    cleanups.push(() => alice.destroy(), () => bob.destroy());
    const errors: string[] = [];
    bob.on('error', (e) => errors.push(`bob: ${e.reason}`));
    alice.on('error', (e) => errors.push(`alice: ${e.reason}`));
    await Promise.all([alice.start(), bob.start()]);
    await eventually(() => alice.conversationIds().includes(id) && bob.conversationIds().includes(id), 10_000, 'both see the conversation');
    const before = alice.conversation(id).send('before the disk fills');
    expect((await send('rest before', 'rest-before')).status).toBe(201);
    await eventually(() => ids(bob, id).includes(before) && ids(bob, id).includes('rest-before'), 10_000, 'bob has both');
    await Promise.all([alice.whenSynced(), bob.whenSynced()]);

    disk.fill();
    // SQLite may still have room in a page it holds; the first sends that fit are acknowledged and durable.
    const acknowledged = ['rest-before'];
    let refused: { status: number; body: any } | null = null;
    for (let i = 0; i < 100 && !refused; i++) {
      const answer = await send(`while full ${i} ${'x'.repeat(8_000)}`, `full-${i}`);
      if (answer.status === 201) acknowledged.push(`full-${i}`);
      else refused = answer;
    }
    expect(refused, 'a REST send is refused once the disk is full').not.toBeNull();
    expect([503, 507]).toContain(refused!.status);
    expect(refused!.body.error.code).toMatch(/^storage_/);
    expect((await server.api('/healthz')).status).toBe(200);

    // A WebSocket send is not acknowledged while the disk is full.
    const wsWhileFull = alice.conversation(id).send('sent over the socket while the disk is full');
    await new Promise((r) => setTimeout(r, 1_500));
    expect(alice.conversation(id).snapshot().messages.find((m) => m.id === wsWhileFull)?.status).not.toBe('sent');
    expect((await server.api('/healthz')).status).toBe(200);

    disk.free();
    // Sends work again, and the SDK resends what was refused without help.
    let again = await send('after space returned', 'rest-after');
    for (let i = 0; i < 20 && again.status !== 201; i++) {
      await new Promise((r) => setTimeout(r, 250));
      again = await send('after space returned', 'rest-after');
    }
    expect(again.status).toBe(201);
    acknowledged.push('rest-after');
    await eventually(() => alice.conversation(id).snapshot().messages.find((m) => m.id === wsWhileFull)?.status === 'sent', 20_000, 'the WebSocket send acknowledged');
    acknowledged.push(before, wsWhileFull);

    await server.stop();
    await server.restart();
    const stored = await storedIds(server, id);
    expect(acknowledged.filter((m) => !stored.includes(m)), 'acknowledged and lost').toEqual([]);

    // Bob's replica (which may hold what the server could not store) syncs again by itself.
    const fromBob = bob.conversation(id).send('bob after the restart');
    await eventually(async () => (await storedIds(server, id)).includes(fromBob), 20_000, "bob's message stored");
    await eventually(() => bob.connection().state === 'synced', 20_000, 'bob synced');
    const finalIds = await storedIds(server, id);
    // The same messages, each once (the SDK shows them in display order, by createdAt: see client/README).
    const sorted = (list: string[]) => JSON.stringify([...list].sort());
    await eventually(() => sorted(ids(bob, id)) === sorted(finalIds), 10_000, "bob's replica equals the server's");
    await waitFor(() => alice.connection().state === 'synced', 20_000, 'alice synced');
    // A storage failure is not a refusal: no replica had to be dropped, nothing was reported as refused.
    expect(errors).toEqual([]);
    expect(server.output()).not.toMatch(/unhandled|UnhandledPromiseRejection/i);
  }, 90_000);
});
