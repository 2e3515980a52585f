/**
 * `saving` -> `pending` -> `sent` against a real server, IndexedDB from
 * fake-indexeddb: a message is reported `pending` only once its update is
 * committed to IndexedDB, so a reload then keeps it.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import * as Y from 'yjs';
import { conversationDocName, readMessages } from '@parley/schema';
import { startServer, type TestServer } from '../../../e2e/fixtures/server';
import { eventually, nodeSession } from '../testing/nodeClient';
import type { Session } from './Session';

let server: TestServer;
const sessions: Session[] = [];
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await Promise.all(sessions.map((s) => s.destroy()));
  await server?.stop();
});

const open = (userId: string, storagePrefix?: string) => {
  const session = nodeSession(server, userId, storagePrefix ? { storagePrefix } : {});
  sessions.push(session);
  return session;
};

/** The message texts committed to a replica's IndexedDB, read on a connection of our own (nothing written). */
async function committedTexts(databaseName: string): Promise<string[]> {
  const db = await new Promise<IDBDatabase>((resolve, reject) => {
    const request = indexedDB.open(databaseName);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  const updates = await new Promise<Uint8Array[]>((resolve, reject) => {
    const request = db.transaction('updates', 'readonly').objectStore('updates').getAll();
    request.onsuccess = () => resolve(request.result as Uint8Array[]);
    request.onerror = () => reject(request.error);
  });
  db.close();
  const doc = new Y.Doc();
  for (const update of updates) Y.applyUpdate(doc, update);
  return readMessages(doc).map((m) => m.text);
}

it('an offline message is saving, then pending once in IndexedDB (and after a reload), then sent', async () => {
  const alice = open('alice');
  await alice.start();
  const id = await alice.startDirect('bob');
  await alice.whenSynced();
  const prefix = alice.options.storagePrefix!;
  const databaseName = `${prefix}:${conversationDocName(id)}`;

  alice.goOffline();
  const chat = alice.conversation(id);
  const messageId = chat.send('written offline');
  const status = (session: Session) => session.conversation(id).snapshot().messages.find((m) => m.id === messageId)?.status;
  // In memory only: the IndexedDB write cannot have committed within this task.
  expect(status(alice)).toBe('saving');
  expect(alice.connection()).toMatchObject({ pendingMessages: 0, savingMessages: 1 });

  await alice.waitFor(() => status(alice) === 'pending');
  // Pending means committed: another connection reads it now, without the session closing anything.
  expect(await committedTexts(databaseName)).toContain('written offline');
  expect(alice.connection()).toMatchObject({ state: 'offline', pendingMessages: 1, savingMessages: 0 });

  // A reload offline: what came from IndexedDB is pending from the first snapshot.
  await alice.destroy();
  const reopened = open('alice', prefix);
  reopened.goOffline();
  // Like the app's store: snapshots taken on every change, also while the replica loads.
  const handle = reopened.conversation(id);
  handle.replica.on('change', () => handle.snapshot());
  await reopened.start();
  await reopened.conversation(id).replica.whenLoaded();
  expect(status(reopened)).toBe('pending');
  expect(reopened.connection()).toMatchObject({ pendingMessages: 1, savingMessages: 0 });

  reopened.goOnline();
  await eventually(() => status(reopened) === 'sent', 10_000, 'sent');
  expect(reopened.connection()).toMatchObject({ pendingMessages: 0, savingMessages: 0 });
});

/**
 * Records every readwrite transaction on a replica's `updates` store and
 * whether it has committed. A spy on the IndexedDB implementation, not a mock:
 * the transactions run as before.
 */
function watchUpdateWrites() {
  const writes: { committed: boolean }[] = [];
  const original = IDBDatabase.prototype.transaction;
  IDBDatabase.prototype.transaction = function (this: IDBDatabase, ...args: Parameters<IDBDatabase['transaction']>) {
    const transaction = original.apply(this, args);
    const [stores, mode] = args;
    if (mode === 'readwrite' && [stores].flat().includes('updates')) {
      const write = { committed: false };
      writes.push(write);
      transaction.addEventListener('complete', () => (write.committed = true));
    }
    return transaction;
  };
  return { writes, restore: () => (IDBDatabase.prototype.transaction = original) };
}

it('many quick sends: a message turns pending only after its IndexedDB write committed', async () => {
  const carol = open('carol');
  await carol.start();
  const id = await carol.startDirect('dave');
  await carol.whenSynced();
  carol.goOffline();
  const chat = carol.conversation(id);

  const spy = watchUpdateWrites();
  try {
    // Message id -> how many writes existed once send() returned (its own write is among them).
    const writesBefore = new Map<string, number>();
    const broken: string[] = [];
    const off = carol.on('change', () => {
      for (const message of chat.snapshot().messages) {
        const upTo = writesBefore.get(message.id);
        if (message.status !== 'pending' || upTo === undefined) continue;
        if (spy.writes.slice(0, upTo).some((write) => !write.committed)) broken.push(message.text);
      }
    });
    for (let i = 0; i < 20; i++) {
      const messageId = chat.send(`quick ${i}`);
      writesBefore.set(messageId, spy.writes.length);
      expect(chat.snapshot().messages.at(-1)?.status).toBe('saving');
      if (i % 5 === 4) await new Promise((resolve) => setTimeout(resolve, 0));
    }
    await carol.waitFor(() => chat.snapshot().pending === 20);
    off();
    expect(broken).toEqual([]);
    // One write per message, plus the barriers (coalesced, so fewer than one per message).
    expect(spy.writes.length).toBeGreaterThanOrEqual(21);
    expect(spy.writes.length).toBeLessThan(40);
  } finally {
    spy.restore();
  }
});
