/**
 * Hostile clients against the rules of CONTRACT section 3: each attack is sent
 * by a real provider or by raw frames, and must be refused with a reason the
 * sender sees, change nothing stored (read back fresh, and after a restart),
 * reach no other member, leave the sender's other documents on the same socket
 * working, and be counted in /metrics, while an honest conversation flows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import * as encoding from 'lib0/encoding';
import {
  appendMessage,
  conversationDocName,
  conversationParts,
  editMessage,
  inboxDocName,
  inboxParts,
  readMessages,
  setChannels,
  setReaction,
  setRead,
  ServerFailure,
  softDeleteMessage,
} from '@parley/schema';
import { startServer, type TestServer } from './fixtures/server';
import { connectUser, createConversation, waitFor, type OpenDoc, type UserClient } from './fixtures/clients';
import { RawClient, MessageType, SyncType, awarenessUpdate, frames } from './fixtures/rawClient';
import { STALL_MS, healthy, metric, readStored, rejected, sameAsStored, startHeartbeat, type Heartbeat, type Stored } from './fixtures/hostile';

let server: TestServer;
let heartbeat: Heartbeat;
let main: string; // conversation:<id> where alice, bob and carol are members
let side: string; // another conversation of theirs, for "the sender's other documents"
let alice: UserClient;
let aliceMain: OpenDoc;
let carol: UserClient;
let carolMain: OpenDoc;
let carolSide: OpenDoc;
/** What each attacked document must still hold; checked again after a restart. */
const expected = new Map<string, { reader: string; stored: Stored }>();
const storedIds = (s: Stored) => (s.json as { messages: Array<{ id: string }> }).messages.map((m) => m.id);

beforeAll(async () => {
  server = await startServer();
  const [mainId, sideId] = await Promise.all([createConversation(server, 'alice', ['bob', 'carol'], 'main'), createConversation(server, 'alice', ['bob', 'carol'], 'side')]);
  main = conversationDocName(mainId);
  side = conversationDocName(sideId);
  alice = await connectUser(server, 'alice');
  aliceMain = alice.open(main);
  carol = await connectUser(server, 'carol');
  carolMain = carol.open(main);
  carolSide = carol.open(side);
  await Promise.all([aliceMain.synced, carolMain.synced, carolSide.synced]);
  aliceMain.provider.setAwarenessField('user', { id: 'alice', name: 'Alice' });
  aliceMain.provider.setAwarenessField('typing', false);
  appendMessage(aliceMain.doc, { id: 'm1', author: 'alice', text: 'hello' });
  setReaction(aliceMain.doc, 'm1', 'alice', '👍', true);
  setRead(aliceMain.doc, 'alice', 'm1');
  await aliceMain.acknowledged();
  heartbeat = await startHeartbeat(server);
});

afterAll(async () => {
  alice?.destroy();
  carol?.destroy();
  await server?.stop();
});

type Transport = 'provider' | 'raw-update' | 'raw-step2' | 'raw-sync-reply';

interface Attack {
  user: string;
  roles?: string[];
  doc?: () => string;
  transport: Transport;
  mutate: (doc: Y.Doc) => void;
  /** Write with this Yjs client id (someone else's). */
  clientId?: () => number;
}

let sideCounter = 0;

/**
 * Runs one attack and every check that follows it; returns the reason the
 * sender was given.
 */
async function attack(a: Attack): Promise<string> {
  const docName = a.doc?.() ?? main;
  const reader = docName.startsWith('inbox:') ? a.user : 'alice';
  const before = await readStored(server, reader, docName);
  const countsBefore = await metricSnapshot();
  const sideMessage = `side-${++sideCounter}`;
  let reason: string;
  const writers: number[] = [];
  if (a.transport === 'provider') {
    const client = await connectUser(server, a.user, { roles: a.roles });
    try {
      const target = client.open(docName);
      const other = client.open(side);
      await Promise.all([target.synced, other.synced]);
      if (a.clientId) target.doc.clientID = a.clientId();
      writers.push(target.doc.clientID);
      a.mutate(target.doc);
      await waitFor(() => target.closeReasons.length > 0, 5000, 'the refusal');
      reason = target.closeReasons[0]!;
      // The same socket's other document still works, both ways.
      appendMessage(other.doc, { id: sideMessage, author: a.user, text: 'still here' });
      await other.acknowledged();
    } finally {
      client.destroy();
    }
  } else {
    const client = await RawClient.connect(server.wsUrl);
    try {
      const token = await server.token(a.user, { roles: a.roles });
      const target = await client.open(docName, token);
      const other = await client.open(side, token);
      const update = target.change(a.mutate, a.clientId?.());
      writers.push(...Y.parseUpdateMeta(update).from.keys());
      const syncType = a.transport === 'raw-step2' ? SyncType.step2 : SyncType.update;
      const messageType = a.transport === 'raw-sync-reply' ? MessageType.syncReply : MessageType.sync;
      const outcome = await target.send(update, syncType, messageType);
      reason = 'refused' in outcome ? outcome.refused : 'applied';
      const honest = other.change((d) => appendMessage(d, { id: sideMessage, author: a.user, text: 'still here' }));
      expect(await other.send(honest)).toEqual({ applied: true });
      expect(client.isOpen).toBe(true);
    } finally {
      client.close();
    }
  }
  // Other members got the sender's later message on the other document...
  await waitFor(() => readMessages(carolSide.doc).some((m) => m.id === sideMessage), 5000, 'carol sees the side message');
  // ...and nothing of the attack: carol's replica is exactly what is stored.
  const after = await readStored(server, reader, docName);
  if (reason !== 'applied') {
    // Nothing stored under the client ids the attack wrote with.
    const clock = (s: Stored, client: number) => s.stateVector.find(([c]) => c === client)?.[1] ?? 0;
    for (const client of writers) expect(clock(after, client), `client ${client}`).toBe(clock(before, client));
    // A conversation only changes by its members' writes; the server keeps an inbox's summaries current meanwhile.
    if (docName.startsWith('inbox:')) expect((after.json as { prefs: unknown }).prefs).toEqual((before.json as { prefs: unknown }).prefs);
    else expect(after).toEqual(before);
  }
  if (docName === main) await sameAsStored(carolMain, () => readStored(server, 'alice', main));
  expected.set(docName, { reader, stored: after });
  expect(await healthy(server)).toBe(true);
  if (reason !== 'applied') expect(await rejected(server, reason)).toBe((countsBefore.get(reason) ?? 0) + 1);
  return reason;
}

const REASONS = ['forged-author', 'server-only-field', 'not-author', 'not-your-key', 'hard-delete-not-allowed', 'client-id-belongs-to-another-user', 'text-too-long', 'update-too-large', 'invalid-message', 'unknown-field'];
async function metricSnapshot(): Promise<Map<string, number>> {
  return new Map(await Promise.all(REASONS.map(async (r) => [r, await rejected(server, r)] as const)));
}

const aliceClientId = () => aliceMain.doc.clientID;
/** The client id the server wrote `meta` with (bound to the server). */
const serverClientId = () => (conversationParts(carolMain.doc).meta as unknown as { _map: Map<string, Y.Item> })._map.get('id')!.id.client;

describe('conversation rules', () => {
  it('refuses a forged author (provider and raw frames)', async () => {
    const forge = (d: Y.Doc) => appendMessage(d, { id: 'forged', author: 'alice', text: 'I am alice' });
    expect(await attack({ user: 'bob', transport: 'provider', mutate: forge })).toBe('forged-author');
    expect(await attack({ user: 'bob', transport: 'raw-update', mutate: forge })).toBe('forged-author');
    expect(await attack({ user: 'bob', transport: 'raw-step2', mutate: forge })).toBe('forged-author');
    expect(await attack({ user: 'bob', transport: 'raw-sync-reply', mutate: forge })).toBe('forged-author');
  });

  it('refuses system messages from clients', async () => {
    const system = (d: Y.Doc) => appendMessage(d, { id: 'sys', author: 'bob', text: 'bob was made owner', kind: 'system' });
    expect(await attack({ user: 'bob', transport: 'provider', mutate: system })).toBe('server-only-field');
    expect(await attack({ user: 'bob', transport: 'raw-update', mutate: system })).toBe('server-only-field');
  });

  it('refuses editing or soft-deleting someone else\'s message; an admin may not edit either', async () => {
    expect(await attack({ user: 'bob', transport: 'provider', mutate: (d) => editMessage(d, 'm1', 'bob wrote this') })).toBe('not-author');
    expect(await attack({ user: 'bob', transport: 'raw-step2', mutate: (d) => editMessage(d, 'm1', 'bob wrote this') })).toBe('not-author');
    expect(await attack({ user: 'bob', transport: 'provider', mutate: (d) => softDeleteMessage(d, 'm1') })).toBe('not-author');
    expect(await attack({ user: 'root', roles: ['admin'], transport: 'provider', mutate: (d) => editMessage(d, 'm1', 'admin rewrite') })).toBe('not-author');
    // An admin's soft delete that also sneaks in a text change.
    const sneaky = (d: Y.Doc) => {
      softDeleteMessage(d, 'm1');
      conversationParts(d).messages.get(0).set('text', 'moderated: rewritten');
    };
    expect(await attack({ user: 'root', roles: ['admin'], transport: 'raw-update', mutate: sneaky })).toBe('not-author');
    // Changing immutable fields of one's own message.
    expect(await attack({ user: 'alice', transport: 'raw-update', mutate: (d) => conversationParts(d).messages.get(0).set('author', 'bob') })).toBe('invalid-message');
  });

  it('refuses hard deletes, by the author and by an admin', async () => {
    const hardDelete = (d: Y.Doc) => conversationParts(d).messages.delete(0, 1);
    expect(await attack({ user: 'alice', transport: 'provider', mutate: hardDelete })).toBe('hard-delete-not-allowed');
    expect(await attack({ user: 'root', roles: ['admin'], transport: 'raw-update', mutate: hardDelete })).toBe('hard-delete-not-allowed');
  });

  it('refuses someone else\'s reactions and read receipts', async () => {
    expect(await attack({ user: 'bob', transport: 'provider', mutate: (d) => setReaction(d, 'm1', 'alice', '🎉', true) })).toBe('not-your-key');
    expect(await attack({ user: 'bob', transport: 'raw-update', mutate: (d) => setReaction(d, 'm1', 'alice', '👍', false) })).toBe('not-your-key');
    // "bob:" alone, or a prefix trick such as "bo:b".
    expect(await attack({ user: 'bob', transport: 'raw-update', mutate: (d) => setReaction(d, 'm1', 'bo', 'b👍', true) })).toBe('not-your-key');
    expect(await attack({ user: 'bob', transport: 'provider', mutate: (d) => setRead(d, 'alice', 'm1') })).toBe('not-your-key');
    expect(await attack({ user: 'bob', transport: 'raw-update', mutate: (d) => conversationParts(d).reads.delete('alice') })).toBe('not-your-key');
  });

  it('refuses writes to meta and members', async () => {
    expect(await attack({ user: 'bob', transport: 'provider', mutate: (d) => conversationParts(d).meta.set('title', 'hijacked') })).toBe('server-only-field');
    expect(await attack({ user: 'bob', transport: 'raw-update', mutate: (d) => conversationParts(d).members.set('mallory', { role: 'owner', joinedAt: 1 }) })).toBe(
      'server-only-field',
    );
    expect(await attack({ user: 'alice', transport: 'raw-step2', mutate: (d) => conversationParts(d).members.delete('bob') })).toBe('server-only-field');
    expect(await attack({ user: 'alice', transport: 'raw-update', mutate: (d) => d.getMap('extra').set('x', 1) })).toBe('unknown-field');
  });

  it('refuses items under another user\'s (or the server\'s) Yjs client id', async () => {
    const honestLooking = (d: Y.Doc) => appendMessage(d, { id: 'under-alice', author: 'bob', text: 'honest content, stolen client id' });
    expect(await attack({ user: 'bob', transport: 'provider', mutate: honestLooking, clientId: aliceClientId })).toBe('client-id-belongs-to-another-user');
    expect(await attack({ user: 'bob', transport: 'raw-update', mutate: honestLooking, clientId: serverClientId })).toBe('client-id-belongs-to-another-user');
  });

  it('refuses a whole update when only part of it is hostile', async () => {
    const mixed = (d: Y.Doc) => {
      appendMessage(d, { id: 'honest-part', author: 'bob', text: 'fine' });
      setReaction(d, 'm1', 'alice', '😈', true);
    };
    expect(await attack({ user: 'bob', transport: 'raw-update', mutate: mixed })).toBe('not-your-key');
  });

  it('refuses text over 16 KiB and an update over 1 MiB', async () => {
    const long = (d: Y.Doc) => appendMessage(d, { id: 'long', author: 'bob', text: 'x'.repeat(16 * 1024 + 1) });
    expect(await attack({ user: 'bob', transport: 'provider', mutate: long })).toBe('text-too-long');
    // Just over 1 MiB, still under the WebSocket frame limit: the validator, not ws, refuses it.
    const fill = (last: number) => (d: Y.Doc) =>
      d.transact(() => {
        for (let i = 0; i < 63; i++) appendMessage(d, { id: `big-${i}`, author: 'bob', text: 'x'.repeat(16 * 1024) });
        appendMessage(d, { id: 'big-last', author: 'bob', text: 'x'.repeat(last) });
      });
    const last = 1024 * 1024 + 1024 - new RawProbe().size(fill(0));
    const huge = fill(last);
    const size = new RawProbe().size(huge);
    expect(size).toBeGreaterThan(1024 * 1024);
    expect(size).toBeLessThan(1024 * 1024 + 2 * 1024);
    expect(await attack({ user: 'bob', transport: 'raw-update', mutate: huge })).toBe('update-too-large');
  });

  it('refuses crafted updates that Yjs cannot apply or that leave a pending deletion (found by the fuzz suite)', async () => {
    const before = await readStored(server, 'alice', main);
    const raw = await RawClient.connect(server.wsUrl);
    try {
      const token = await server.token('bob');
      const target = await raw.open(main, token);
      // bob's first honest message gives him a client id and a clock.
      const first = target.change((d) => appendMessage(d, { id: 'crafted-base', author: 'bob', text: 'base' }));
      expect(await target.send(first)).toEqual({ applied: true });
      // What the server holds of bob's client id: what `first` reached (the raw replica only
      // follows what the server sends, which may not include bob's own update yet).
      const meta = Y.parseUpdateMeta(first);
      const client = [...meta.from.keys()][0]!;
      const known = meta.to.get(client)!;
      // A struct bob already wrote, re-sent with its parent pointing at his own future clock:
      // it used to be stored, then threw on every load of the conversation.
      const encoder = new Y.UpdateEncoderV1();
      for (const n of [1, 1]) encoding.writeVarUint(encoder.restEncoder, n);
      encoder.writeClient(client);
      encoding.writeVarUint(encoder.restEncoder, known - 1);
      new Y.Item(Y.createID(client, known - 1), null, null, null, null, Y.createID(client, known + 5), 'text', new Y.ContentAny(['x'])).write(encoder, 0);
      encoding.writeVarUint(encoder.restEncoder, 0);
      expect(await target.send(encoder.toUint8Array())).toEqual({ refused: 'missing-dependency' });
      // A new message whose deletions run past its own structs: the rest used to stay pending
      // on the server, go out to every syncing client and get their next sync step refused.
      const again = await raw.open(main, token);
      const message = again.change((d) => appendMessage(d, { id: 'crafted-pending', author: 'bob', text: 'x' }), client);
      const end = Y.getState(again.doc.store, client) + 2;
      const ds = encoding.createEncoder();
      for (const n of [0, 1, client, 1, end + 10, 3]) encoding.writeVarUint(ds, n);
      expect(await again.send(Y.mergeUpdates([message, encoding.toUint8Array(ds)]))).toEqual({ refused: 'missing-dependency' });
      // A fresh replica's full sync step 2 still goes through.
      const fresh = await raw.open(main, token);
      const full = fresh.change((d) => appendMessage(d, { id: 'after-crafted', author: 'bob', text: 'fine' }), client);
      expect(await fresh.send(Y.mergeUpdates([Y.encodeStateAsUpdate(fresh.doc), full]), SyncType.step2)).toEqual({ applied: true });
    } finally {
      raw.close();
    }
    const after = await readStored(server, 'alice', main);
    expect(storedIds(after)).toEqual([...storedIds(before), 'crafted-base', 'after-crafted']);
    expected.set(main, { reader: 'alice', stored: after });
  });

  it("asks a sender whose update builds on its own changes the server never stored to sync again, and stores both then", async () => {
    const room = conversationDocName(await createConversation(server, 'alice', ['bob']));
    const before = await readStored(server, 'alice', room);
    const raw = await RawClient.connect(server.wsUrl);
    try {
      const token = await server.token('bob');
      const target = await raw.open(room, token);
      // bob's replica: one change the server never got (a write that failed), then the next.
      const mine = new Y.Doc();
      Y.applyUpdate(mine, Y.encodeStateAsUpdate(target.doc));
      const start = Y.encodeStateVector(mine);
      appendMessage(mine, { id: 'lost-then-synced', author: 'bob', text: 'never stored' });
      const middle = Y.encodeStateVector(mine);
      appendMessage(mine, { id: 'ahead-then-synced', author: 'bob', text: 'builds on it' });
      // Not refused, nothing applied: the document is closed for a resync (it was missing-dependency).
      expect(await target.send(Y.encodeStateAsUpdate(mine, middle))).toEqual({ refused: ServerFailure.resyncNeeded });
      expect(storedIds(await readStored(server, 'alice', room))).toEqual(storedIds(before));
      // The same gap in a sync step 2 is one the sender lacks as well (a step 2 answers the server's
      // own state vector): refused, so the SDK rebuilds its replica instead of retrying forever.
      const lacking = await raw.open(room, token);
      expect(await lacking.send(Y.encodeStateAsUpdate(mine, middle), SyncType.step2)).toEqual({ refused: 'missing-dependency' });
      // Reopened, the replica's sync step 2 brings both changes.
      const again = await raw.open(room, token);
      expect(await again.send(Y.encodeStateAsUpdate(mine, start), SyncType.step2)).toEqual({ applied: true });
    } finally {
      raw.close();
    }
    const after = await readStored(server, 'alice', room);
    expect(storedIds(after)).toEqual([...storedIds(before), 'lost-then-synced', 'ahead-then-synced']);
    expected.set(room, { reader: 'alice', stored: after });
  });

  it('still accepts honest changes, including an admin\'s soft delete', async () => {
    const fullText = '🙂'.repeat(4096);
    expect(await attack({ user: 'bob', transport: 'raw-update', mutate: (d) => appendMessage(d, { id: 'b1', author: 'bob', text: fullText }) })).toBe('applied');
    expect(await attack({ user: 'bob', transport: 'raw-update', mutate: (d) => setReaction(d, 'm1', 'bob', '👍', true) })).toBe('applied');
    expect(await attack({ user: 'root', roles: ['admin'], transport: 'raw-update', mutate: (d) => softDeleteMessage(d, 'b1') })).toBe('applied');
    const stored = await readStored(server, 'alice', main);
    const messages = (stored.json as { messages: Array<{ id: string; text: string; deletedAt?: number; reactions: Record<string, number> }> }).messages;
    expect(messages.map((m) => m.id)).toEqual(['m1', 'crafted-base', 'after-crafted', 'b1']);
    expect(messages.at(-1)!.text).toBe('');
    expect(Object.keys(messages[0]!.reactions).sort()).toEqual(['alice:👍', 'bob:👍']);
  });
});

/** Measures an update the way RawDoc.change makes it, against the current conversation. */
class RawProbe {
  size(mutate: (d: Y.Doc) => void): number {
    const copy = new Y.Doc();
    Y.applyUpdate(copy, Y.encodeStateAsUpdate(carolMain.doc));
    const before = Y.encodeStateVector(copy);
    mutate(copy);
    return Y.encodeStateAsUpdate(copy, before).byteLength;
  }
}

describe('inbox rules', () => {
  const bobInbox = () => inboxDocName('bob');

  it('refuses creating notifications and writing server-owned parts of one\'s own inbox', async () => {
    const fake = (d: Y.Doc) => {
      const n = new Y.Map<unknown>();
      n.set('id', 'fake');
      n.set('kind', 'system');
      n.set('title', 'You won');
      inboxParts(d).notifications.set('fake', n);
    };
    expect(await attack({ user: 'bob', doc: bobInbox, transport: 'provider', mutate: fake })).toBe('server-only-field');
    expect(await attack({ user: 'bob', doc: bobInbox, transport: 'raw-update', mutate: (d) => inboxParts(d).conversations.set('x', { title: 't', lastMessage: null, unread: 0 }) })).toBe(
      'server-only-field',
    );
    expect(await attack({ user: 'bob', doc: bobInbox, transport: 'raw-update', mutate: (d) => inboxParts(d).prefs.set('channels', new Y.Map()) })).toBe('server-only-field');
    // The owner's own preferences are theirs to change.
    expect(
      await attack({ user: 'bob', doc: bobInbox, transport: 'raw-update', mutate: (d) => setChannels(d, 'new_message', { inApp: true, push: false, email: false }) }),
    ).toBe('applied');
  });

  it('lets the owner change only readAt, seenAt and archivedAt of a notification', async (ctx) => {
    // A message from alice notifies bob, if the chat notifier is wired in this build.
    const probe = await connectUser(server, 'bob');
    let notificationId: string | undefined;
    try {
      const inbox = probe.open(bobInbox());
      await inbox.synced;
      appendMessage(aliceMain.doc, { id: 'to-notify-bob', author: 'alice', text: 'ping bob' });
      await aliceMain.acknowledged();
      await waitFor(() => inboxParts(inbox.doc).notifications.size > 0, 3000, 'a notification for bob').catch(() => {});
      notificationId = [...inboxParts(inbox.doc).notifications.keys()][0];
    } finally {
      probe.destroy();
    }
    if (!notificationId) return ctx.skip('no chat notifications in this build; covered by UpdateValidator.test.ts');
    const id = notificationId;
    const field = (name: string, value: unknown) => (d: Y.Doc) => (inboxParts(d).notifications.get(id) as Y.Map<unknown>).set(name, value);
    expect(await attack({ user: 'bob', doc: bobInbox, transport: 'provider', mutate: field('title', 'changed') })).toBe('server-only-field');
    expect(await attack({ user: 'bob', doc: bobInbox, transport: 'raw-update', mutate: field('body', 'changed') })).toBe('server-only-field');
    expect(await attack({ user: 'bob', doc: bobInbox, transport: 'raw-update', mutate: (d) => inboxParts(d).notifications.delete(id) })).toBe('server-only-field');
    expect(await attack({ user: 'bob', doc: bobInbox, transport: 'raw-update', mutate: field('readAt', 'yesterday') })).toBe('invalid-message');
    expect(await attack({ user: 'bob', doc: bobInbox, transport: 'raw-update', mutate: field('readAt', Date.now()) })).toBe('applied');
  });

  it('refuses another user\'s inbox at connection time (forbidden)', async () => {
    const before = await metric(server, 'parley_auth_failures_total', { reason: 'forbidden' });
    const bob = await connectUser(server, 'bob');
    try {
      const theirs = bob.open(inboxDocName('alice'));
      await expect(theirs.synced).rejects.toThrow('forbidden');
      const own = bob.open(inboxDocName('bob'));
      await own.synced;
    } finally {
      bob.destroy();
    }
    const raw = await RawClient.connect(server.wsUrl);
    try {
      const token = await server.token('bob');
      expect(await raw.authenticate(inboxDocName('alice'), token)).toBe('forbidden');
      // Frames for it afterwards are not applied: nothing is authenticated.
      const forged = new Y.Doc();
      inboxParts(forged).notifications.set('forged', new Y.Map());
      raw.send(frames.update(inboxDocName('alice'), Y.encodeStateAsUpdate(forged)));
      expect(await raw.authenticate(inboxDocName('bob'), token)).toBe('authenticated');
    } finally {
      raw.close();
    }
    expect(await metric(server, 'parley_auth_failures_total', { reason: 'forbidden' })).toBe(before + 2);
    expect(await readStored(server, 'alice', inboxDocName('alice'))).toMatchObject({ json: { notifications: {}, conversations: {} } });
  });
});

describe('awareness', () => {
  it('shows the authenticated identity, whatever `user` a client claims', async () => {
    const bob = await connectUser(server, 'bob');
    try {
      const open = bob.open(main);
      await open.synced;
      open.provider.setAwarenessField('user', { id: 'alice', name: 'Alice (not really)' });
      open.provider.setAwarenessField('typing', true);
      const bobId = open.doc.clientID;
      await waitFor(() => (carolMain.provider.awareness!.getStates().get(bobId) as { typing?: boolean } | undefined)?.typing === true, 5000, 'carol sees bob typing');
      expect(carolMain.provider.awareness!.getStates().get(bobId)).toMatchObject({ user: { id: 'bob' }, typing: true });
    } finally {
      bob.destroy();
    }
  });

  it('drops raw awareness states for someone else\'s client id, and rewrites `user` on the sender\'s own', async () => {
    const raw = await RawClient.connect(server.wsUrl);
    try {
      await raw.open(main, await server.token('bob'));
      const aliceState = () => carolMain.provider.awareness!.getStates().get(aliceClientId()) as { user?: { id: string }; typing?: boolean } | undefined;
      await waitFor(() => aliceState()?.user?.id === 'alice', 5000, 'carol sees alice');
      const fresh = 0x7fff0000 + Math.floor(Math.random() * 0xffff);
      raw.send(
        frames.awareness(
          main,
          awarenessUpdate([
            { clientId: aliceClientId(), clock: 1_000_000, state: { user: { id: 'alice', name: 'Alice' }, typing: true, text: 'spoofed' } },
            { clientId: fresh, clock: 1, state: { user: { id: 'alice', name: 'Alice' }, typing: true } },
          ]),
        ),
      );
      await waitFor(() => carolMain.provider.awareness!.getStates().has(fresh), 5000, 'carol sees the raw client');
      expect(carolMain.provider.awareness!.getStates().get(fresh)).toMatchObject({ user: { id: 'bob' }, typing: true });
      expect(aliceState()).toMatchObject({ user: { id: 'alice' }, typing: false });
      expect(aliceState()).not.toHaveProperty('text');
    } finally {
      raw.close();
    }
  });
});

describe('after it all', () => {
  it('kept honest traffic flowing, and the stored documents survive a restart unchanged', async () => {
    const beat = await heartbeat.stop();
    expect(beat.received).toBe(beat.sent);
    expect(beat.sent).toBeGreaterThan(10);
    // Generous: a stall of the event loop would show as seconds.
    expect(beat.maxLagMs).toBeLessThan(STALL_MS);
    console.log(`heartbeat during attacks: ${beat.sent} messages, max lag ${beat.maxLagMs} ms`);
    alice.destroy();
    carol.destroy();
    await new Promise((r) => setTimeout(r, 200)); // let server-side notification writes settle
    const beforeRestart = new Map(await Promise.all([...expected].map(async ([docName, { reader }]) => [docName, await readStored(server, reader, docName)] as const)));
    // What each attack left is still there: no refused content slipped in later.
    const messages = storedIds(beforeRestart.get(main)!);
    expect(messages).toEqual(['m1', 'crafted-base', 'after-crafted', 'b1', 'to-notify-bob']);
    await server.restart();
    for (const [docName, { reader }] of expected) {
      expect(await readStored(server, reader, docName), docName).toEqual(beforeRestart.get(docName));
    }
    expect(expected.size).toBeGreaterThanOrEqual(2);
    // Client-id ownership is stored too: after the restart alice's id is still hers.
    const raw = await RawClient.connect(server.wsUrl);
    try {
      const target = await raw.open(main, await server.token('bob'));
      const update = target.change((d) => appendMessage(d, { id: 'after-restart', author: 'bob', text: 'x' }), aliceClientId());
      expect(await target.send(update)).toEqual({ refused: 'client-id-belongs-to-another-user' });
    } finally {
      raw.close();
    }
  });
});
