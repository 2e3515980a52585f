import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import * as encoding from 'lib0/encoding';
import {
  appendMessage,
  buildMessage,
  conversationParts,
  editMessage,
  ensurePrefsMaps,
  setQuietHours,
  inboxParts,
  readMessages,
  setChannels,
  setMuted,
  setNotificationField,
  setReaction,
  setRead,
  softDeleteMessage,
} from '@parley/schema';
import { validateUpdate, type Accepted } from './UpdateValidator';
import type { Refusal } from './Refusal';
import type { Writer } from './Writer';

const CONVERSATION = 'conversation:c1';
const INBOX = 'inbox:bob';
const alice: Writer = { userId: 'alice', admin: false };
const bob: Writer = { userId: 'bob', admin: false };
const admin: Writer = { userId: 'root', admin: true };

/** A server-side document and the owners of its client ids, as the extension keeps them. */
class Room {
  readonly doc = new Y.Doc();
  readonly owners = new Map<number, string>([[this.doc.clientID, '@server']]);

  constructor(
    readonly name: string,
    init: (doc: Y.Doc) => void,
  ) {
    this.doc.transact(() => init(this.doc));
  }

  /** A replica for a client, synced with the server now. */
  replica(): Y.Doc {
    const doc = new Y.Doc();
    Y.applyUpdate(doc, Y.encodeStateAsUpdate(this.doc));
    return doc;
  }

  /** What the replica has that the server lacks. */
  diff(replica: Y.Doc): Uint8Array {
    return Y.encodeStateAsUpdate(replica, Y.encodeStateVector(this.doc));
  }

  judge(update: Uint8Array, writer: Writer): Accepted | Refusal {
    const verdict = validateUpdate(this.doc, this.name, update, writer, (id) => this.owners.get(id) ?? null);
    if (!('reason' in verdict)) {
      for (const id of verdict.newClients) this.owners.set(id, writer.userId);
      Y.applyUpdate(this.doc, update);
    }
    return verdict;
  }

  /** Applies the replica's change and returns the refusal reason, or 'ok'. */
  send(replica: Y.Doc, writer: Writer): string {
    const verdict = this.judge(this.diff(replica), writer);
    return 'reason' in verdict ? verdict.reason : 'ok';
  }
}

function conversationRoom(): Room {
  return new Room(CONVERSATION, (doc) => {
    const { meta, members } = conversationParts(doc);
    meta.set('id', 'c1');
    meta.set('title', 'T');
    members.set('alice', { role: 'owner', joinedAt: 1 });
    members.set('bob', { role: 'member', joinedAt: 1 });
  });
}

/** A room where alice posted message m1, accepted. */
function withMessage(): { room: Room; a: Y.Doc; b: Y.Doc } {
  const room = conversationRoom();
  const a = room.replica();
  appendMessage(a, { id: 'm1', author: 'alice', text: 'hello' });
  expect(room.send(a, alice)).toBe('ok');
  return { room, a, b: room.replica() };
}

describe('conversation rules', () => {
  it('accepts honest messages, edits, soft deletes, reactions and read receipts', () => {
    const { room, a, b } = withMessage();
    appendMessage(b, { id: 'm2', author: 'bob', text: 'hi', replyTo: 'm1' });
    expect(room.send(b, bob)).toBe('ok');
    setReaction(b, 'm1', 'bob', '👍', true);
    setRead(b, 'bob', 'm1');
    expect(room.send(b, bob)).toBe('ok');
    Y.applyUpdate(a, Y.encodeStateAsUpdate(room.doc));
    editMessage(a, 'm1', 'hello, edited');
    expect(room.send(a, alice)).toBe('ok');
    softDeleteMessage(a, 'm1');
    expect(room.send(a, alice)).toBe('ok');
    setReaction(b, 'm1', 'bob', '👍', false);
    expect(room.send(b, bob)).toBe('ok');
    expect(readMessages(room.doc).map((m) => [m.id, m.text, m.deletedAt !== undefined])).toEqual([
      ['m1', '', true],
      ['m2', 'hi', false],
    ]);
  });

  it('accepts a new message and a reaction on it in one update (sent and reacted offline)', () => {
    const room = conversationRoom();
    const a = room.replica();
    appendMessage(a, { id: 'm1', author: 'alice', text: 'x' });
    setReaction(a, 'm1', 'alice', '👍', true);
    editMessage(a, 'm1', 'y');
    expect(room.send(a, alice)).toBe('ok');
    expect(readMessages(room.doc)[0]).toMatchObject({ text: 'y', reactions: { 'alice:👍': expect.any(Number) } });
  });

  it('refuses a message whose author is not the writer', () => {
    const room = conversationRoom();
    const b = room.replica();
    appendMessage(b, { id: 'm1', author: 'alice', text: 'I am alice' });
    expect(room.send(b, bob)).toBe('forged-author');
    expect(readMessages(room.doc)).toEqual([]);
  });

  it('refuses system messages, oversized text, missing fields and unknown fields from clients', () => {
    const room = conversationRoom();
    const a = room.replica();
    appendMessage(a, { id: 'm1', author: 'alice', text: 'x', kind: 'system' });
    expect(room.send(a, alice)).toBe('server-only-field');

    const a2 = room.replica();
    appendMessage(a2, { id: 'm2', author: 'alice', text: 'x'.repeat(16 * 1024 + 1) });
    expect(room.send(a2, alice)).toBe('text-too-long');

    const a3 = room.replica();
    const bare = new Y.Map<unknown>();
    bare.set('text', 'no id, no author');
    conversationParts(a3).messages.push([bare]);
    expect(room.send(a3, alice)).toBe('invalid-message');

    const a4 = room.replica();
    const extra = buildMessage({ id: 'm4', author: 'alice', text: 'x' });
    extra.set('colour', 'red');
    conversationParts(a4).messages.push([extra]);
    expect(room.send(a4, alice)).toBe('unknown-field');

    const a5 = room.replica();
    conversationParts(a5).messages.push(['just a string' as never]);
    expect(room.send(a5, alice)).toBe('invalid-message');
    expect(readMessages(room.doc)).toEqual([]);
  });

  it('lets only the author edit; an admin may only soft-delete', () => {
    const { room, b } = withMessage();
    editMessage(b, 'm1', 'bob was here');
    expect(room.send(b, bob)).toBe('not-author');
    const r = room.replica();
    softDeleteMessage(r, 'm1');
    expect(room.send(r, bob)).toBe('not-author');
    const root = room.replica();
    editMessage(root, 'm1', 'admin rewrite');
    expect(room.send(root, admin)).toBe('not-author');
    const root2 = room.replica();
    softDeleteMessage(root2, 'm1');
    expect(room.send(root2, admin)).toBe('ok');
    expect(readMessages(room.doc)[0]).toMatchObject({ text: '', author: 'alice' });
  });

  it('refuses changing a message\'s author, id or reactions map, and hard deletes', () => {
    const { room, a } = withMessage();
    const map = conversationParts(a).messages.get(0);
    map.set('author', 'alice');
    expect(room.send(a, alice)).toBe('invalid-message');
    const a2 = room.replica();
    conversationParts(a2).messages.get(0).set('reactions', new Y.Map());
    expect(room.send(a2, alice)).toBe('invalid-message');
    const a3 = room.replica();
    conversationParts(a3).messages.delete(0, 1);
    expect(room.send(a3, alice)).toBe('hard-delete-not-allowed');
    const root = room.replica();
    conversationParts(root).messages.delete(0, 1);
    expect(room.send(root, admin)).toBe('hard-delete-not-allowed');
    expect(readMessages(room.doc).map((m) => m.id)).toEqual(['m1']);
  });

  it('keeps reactions and read receipts to their owners', () => {
    const { room, a, b } = withMessage();
    setReaction(a, 'm1', 'alice', '🎉', true);
    expect(room.send(a, alice)).toBe('ok');
    const b2 = room.replica();
    setReaction(b2, 'm1', 'alice', '👍', true);
    expect(room.send(b2, bob)).toBe('not-your-key');
    const b3 = room.replica();
    setReaction(b3, 'm1', 'alice', '🎉', false);
    expect(room.send(b3, bob)).toBe('not-your-key');
    setRead(b, 'alice', 'm1');
    expect(room.send(b, bob)).toBe('not-your-key');
    const b4 = room.replica();
    setRead(b4, 'bob', 'not an id!');
    expect(room.send(b4, bob)).toBe('invalid-message');
    expect(conversationParts(room.doc).reads.size).toBe(0);
  });

  it('refuses writes to meta and members, and unknown roots', () => {
    const room = conversationRoom();
    const a = room.replica();
    conversationParts(a).meta.set('title', 'hijacked');
    expect(room.send(a, alice)).toBe('server-only-field');
    const a2 = room.replica();
    conversationParts(a2).members.set('mallory', { role: 'owner', joinedAt: 1 });
    expect(room.send(a2, alice)).toBe('server-only-field');
    const a3 = room.replica();
    conversationParts(a3).members.delete('bob');
    expect(room.send(a3, alice)).toBe('server-only-field');
    const a4 = room.replica();
    a4.getMap('secret').set('x', 1);
    expect(room.send(a4, alice)).toBe('unknown-field');
    expect(room.doc.getMap('meta').get('title')).toBe('T');
  });

  it('refuses an already-held item resent under an unknown root, which would create that root in memory', () => {
    const { room, a } = withMessage();
    const held = Y.decodeUpdate(Y.encodeStateAsUpdate(a)).structs.find((s): s is Y.Item => s instanceof Y.Item && s.id.client === a.clientID)!;
    const encoder = new Y.UpdateEncoderV1();
    encoding.writeVarUint(encoder.restEncoder, 1); // one client
    encoding.writeVarUint(encoder.restEncoder, 1); // one struct
    encoder.writeClient(held.id.client);
    encoding.writeVarUint(encoder.restEncoder, held.id.clock);
    const forged = new Y.Item(held.id, null, null, null, null, 'smuggled' as unknown as Y.ID, 'x', new Y.ContentAny([1]));
    forged.write(encoder, 0);
    encoding.writeVarUint(encoder.restEncoder, 0); // empty delete set
    expect('reason' in room.judge(encoder.toUint8Array(), alice) ? 'refused' : 'applied').toBe('refused');
    expect([...room.doc.share.keys()]).not.toContain('smuggled');
  });

  it('refuses items written under a client id that belongs to someone else', () => {
    const { room, a } = withMessage();
    const mallory = room.replica();
    mallory.clientID = a.clientID;
    appendMessage(mallory, { id: 'm9', author: 'bob', text: 'under alice\'s client id' });
    expect(room.send(mallory, bob)).toBe('client-id-belongs-to-another-user');
    const server = room.replica();
    server.clientID = room.doc.clientID;
    appendMessage(server, { id: 'm10', author: 'bob', text: 'as the server' });
    expect(room.send(server, bob)).toBe('client-id-belongs-to-another-user');
  });

  it('refuses updates that depend on content the server never saw, and malformed bytes', () => {
    const room = conversationRoom();
    const a = room.replica();
    appendMessage(a, { id: 'm1', author: 'alice', text: 'never sent' });
    const first = room.diff(a);
    const before = Y.encodeStateVector(a);
    appendMessage(a, { id: 'm2', author: 'alice', text: 'depends on m1' });
    const second = Y.encodeStateAsUpdate(a, before);
    // The gap is the sender's own earlier change: it holds it, so it is asked to sync, not refused (ValidationExtension).
    expect(room.judge(second, alice)).toMatchObject({ reason: 'missing-dependency', senderAhead: true });
    expect(room.send(a, alice)).toBe('ok'); // the whole diff is fine
    void first;
    expect(room.judge(new Uint8Array([1, 2, 3, 250, 250, 250]), alice)).toMatchObject({ reason: 'malformed-update' });
    expect(room.judge(new Uint8Array(1024 * 1024 + 1), alice)).toMatchObject({ reason: 'update-too-large' });
  });

  it("refuses a gap in another writer's client id as theirs, not as the sender's own changes to sync", () => {
    const { room, a } = withMessage(); // a's client id is alice's now
    appendMessage(a, { id: 'm2', author: 'alice', text: 'never sent' });
    const before = Y.encodeStateVector(a);
    appendMessage(a, { id: 'm3', author: 'alice', text: 'depends on m2' });
    const gap = Y.encodeStateAsUpdate(a, before);
    expect(room.judge(gap, bob)).toMatchObject({ reason: 'client-id-belongs-to-another-user' });
    expect(room.judge(gap, alice)).toMatchObject({ reason: 'missing-dependency', senderAhead: true });
    // A gap put first does not hide another writer's client id later in the same update.
    const bobs = room.replica();
    appendMessage(bobs, { id: 'b1', author: 'bob', text: 'bob binds his client id' });
    expect(room.send(bobs, bob)).toBe('ok');
    const underBob = room.replica();
    underBob.clientID = bobs.clientID;
    appendMessage(underBob, { id: 'm4', author: 'alice', text: "under bob's client id" });
    const mixed = Y.mergeUpdates([gap, room.diff(underBob)]);
    expect(room.judge(mixed, alice)).toMatchObject({ reason: 'client-id-belongs-to-another-user' });
  });

  it('refuses references Yjs would look up blindly (they made a stored update throw on every load)', () => {
    const { room, a } = withMessage();
    const client = a.clientID;
    const known = Y.getState(room.doc.store, client);
    // One struct: already known (clock 0) or new (clock `known`), whose parent is this client's own future clock.
    const crafted = (clock: number, parentClock: number) => {
      const encoder = new Y.UpdateEncoderV1();
      encoding.writeVarUint(encoder.restEncoder, 1);
      encoding.writeVarUint(encoder.restEncoder, 1);
      encoder.writeClient(client);
      encoding.writeVarUint(encoder.restEncoder, clock);
      new Y.Item(Y.createID(client, clock), null, null, null, null, Y.createID(client, parentClock), 'text', new Y.ContentAny(['x'])).write(encoder, 0);
      encoding.writeVarUint(encoder.restEncoder, 0);
      return encoder.toUint8Array();
    };
    for (const update of [crafted(0, known + 5), crafted(known, known + 1)]) {
      expect(() => Y.applyUpdate(room.replica(), update)).toThrow();
      expect(room.judge(update, alice)).toMatchObject({ reason: 'missing-dependency' });
      // No resync can make a reference to a clock the update itself skips valid.
      expect(room.judge(update, alice)).not.toHaveProperty('senderAhead');
    }
  });

  it('refuses deleting past the end of what the update brings (a pending deletion every syncing client would inherit)', () => {
    const room = conversationRoom();
    const a = room.replica();
    appendMessage(a, { id: 'm1', author: 'alice', text: 'hello' });
    const own = room.diff(a);
    const end = Y.getState(a.store, a.clientID);
    const deletes = (clock: number, len: number) => {
      const e = encoding.createEncoder();
      for (const n of [0, 1, a.clientID, 1, clock, len]) encoding.writeVarUint(e, n);
      return Y.mergeUpdates([own, encoding.toUint8Array(e)]);
    };
    expect(room.judge(deletes(end + 3, 2), alice)).toMatchObject({ reason: 'missing-dependency' });
    expect(room.judge(deletes(end - 1, 2), alice)).toMatchObject({ reason: 'missing-dependency' });
    expect(readMessages(room.doc)).toEqual([]);
    expect(room.send(a, alice)).toBe('ok');
    expect(room.doc.store.pendingDs).toBeNull();
  });

  it('treats an already-known update as empty', () => {
    const { room, a } = withMessage();
    const verdict = room.judge(Y.encodeStateAsUpdate(a), alice);
    expect(verdict).toMatchObject({ empty: true });
  });
});

describe('message ids and client times', () => {
  it('refuses a new message under an id another message has, whoever wrote it', () => {
    const { room, b } = withMessage();
    appendMessage(b, { id: 'm1', author: 'bob', text: 'impostor' });
    expect(room.send(b, bob)).toBe('duplicate-message-id');
    // The author's own retry under a second map is no exception: the first one stands.
    const a = room.replica();
    appendMessage(a, { id: 'm1', author: 'alice', text: 'hello again' });
    expect(room.send(a, alice)).toBe('duplicate-message-id');
    // Nor two new messages with one id in the same update (offline duplicates).
    const c = room.replica();
    appendMessage(c, { id: 'm2', author: 'alice', text: 'one' });
    appendMessage(c, { id: 'm2', author: 'alice', text: 'two' });
    expect(room.send(c, alice)).toBe('duplicate-message-id');
    expect(readMessages(room.doc).map((m) => m.id)).toEqual(['m1']);
  });

  it('knows the ids the server writes after the index was built, and of a document loaded whole', () => {
    const { room, b } = withMessage();
    appendMessage(room.doc, { id: 'srv-1', author: 'parley', text: 'from the REST API' });
    appendMessage(b, { id: 'srv-1', author: 'bob', text: 'mine?' });
    expect(room.send(b, bob)).toBe('duplicate-message-id');
    const loaded = new Room(CONVERSATION, (doc) => Y.applyUpdate(doc, Y.encodeStateAsUpdate(room.doc)));
    const c = loaded.replica();
    appendMessage(c, { id: 'srv-1', author: 'bob', text: 'mine?' });
    expect(loaded.send(c, bob)).toBe('duplicate-message-id');
    const d = loaded.replica();
    appendMessage(d, { id: 'fresh', author: 'bob', text: 'fine' });
    expect(loaded.send(d, bob)).toBe('ok');
  });

  it('refuses client times before 2020, far ahead of the server clock, or not finite', () => {
    const ahead = Date.now() + 10 * 60_000;
    for (const createdAt of [1e300, -1, 0, Date.UTC(2019, 11, 31), ahead, Number.NaN, Number.POSITIVE_INFINITY]) {
      const room = conversationRoom();
      const a = room.replica();
      appendMessage(a, { id: 'm1', author: 'alice', text: 'x', createdAt });
      expect(room.send(a, alice), String(createdAt)).toBe('invalid-message');
    }
    const { room } = withMessage();
    const cases: Array<[Writer, (doc: Y.Doc) => void]> = [
      [alice, (doc) => editMessage(doc, 'm1', 'edited', 1e300)],
      [alice, (doc) => softDeleteMessage(doc, 'm1', ahead)],
      [bob, (doc) => setReaction(doc, 'm1', 'bob', '👍', true, 1e300)],
      [bob, (doc) => setRead(doc, 'bob', 'm1', -5)],
    ];
    for (const [writer, change] of cases) {
      const copy = room.replica();
      change(copy);
      expect(room.send(copy, writer), String(change)).toBe('invalid-message');
    }
    const c = room.replica();
    appendMessage(c, { id: 'm2', author: 'bob', text: 'clock a little fast', createdAt: Date.now() + 4 * 60_000 });
    expect(room.send(c, bob)).toBe('ok');
  });
});

describe('inbox rules', () => {
  function inboxRoom(): Room {
    return new Room(INBOX, (doc) => {
      ensurePrefsMaps(doc);
      const n = new Y.Map<unknown>();
      for (const [k, v] of Object.entries({ id: 'n1', kind: 'new_message', title: 'T', body: 'B', createdAt: 1, data: {}, readAt: null, seenAt: null, archivedAt: null })) n.set(k, v);
      inboxParts(doc).notifications.set('n1', n);
      inboxParts(doc).conversations.set('c1', { title: 'T', lastMessage: null, unread: 1 });
    });
  }

  it('lets the owner mark read, seen and archived, and edit preferences', () => {
    const room = inboxRoom();
    const b = room.replica();
    setNotificationField(b, 'n1', 'readAt', Date.now());
    setNotificationField(b, 'n1', 'archivedAt', Date.now());
    setChannels(b, 'new_message', { inApp: true, push: false, email: false });
    expect(room.send(b, bob)).toBe('ok');
    setNotificationField(b, 'n1', 'readAt', null);
    expect(room.send(b, bob)).toBe('ok');
  });

  it('lets the owner set SMS per kind and quiet hours (issue 10), and refuses quiet hours that are not {start, end, tz}', () => {
    const room = inboxRoom();
    const b = room.replica();
    setChannels(b, 'payment_failed', { inApp: true, push: true, email: true, sms: true });
    setQuietHours(b, { start: '22:00', end: '07:00', tz: 'Europe/Paris' });
    expect(room.send(b, bob)).toBe('ok');
    setQuietHours(b, null);
    expect(room.send(b, bob)).toBe('ok');
    for (const bad of [{ start: '22:00', end: '07:00', tz: 'Mars/Olympus' }, { start: '25:00', end: '07:00', tz: 'UTC' }, { start: '22:00', end: '07:00' }, 'always']) {
      const r = room.replica();
      (inboxParts(r).prefs as unknown as Y.Map<unknown>).set('quietHours', bad);
      expect(room.send(r, bob), JSON.stringify(bad)).toBe('invalid-message');
    }
    const s = room.replica();
    setChannels(s, 'new_message', { inApp: true, push: true, email: true, sms: 'yes' } as never);
    expect(room.send(s, bob)).toBe('invalid-message');
  });

  it('refuses creating notifications, changing their content, the conversations map and the prefs maps', () => {
    const room = inboxRoom();
    const cases: Array<(doc: Y.Doc) => void> = [
      (doc) => inboxParts(doc).notifications.set('fake', new Y.Map()),
      (doc) => (inboxParts(doc).notifications.get('n1') as Y.Map<unknown>).set('title', 'changed'),
      (doc) => inboxParts(doc).notifications.delete('n1'),
      (doc) => inboxParts(doc).conversations.set('c1', { title: 'x', lastMessage: null, unread: 0 }),
      (doc) => inboxParts(doc).prefs.set('channels', new Y.Map()),
    ];
    for (const change of cases) {
      const b = room.replica();
      change(b);
      expect(room.send(b, bob)).toBe('server-only-field');
    }
    const b = room.replica();
    setNotificationField(b, 'n1', 'readAt', 'yesterday' as never);
    expect(room.send(b, bob)).toBe('invalid-message');
    const b2 = room.replica();
    setChannels(b2, 'new_message', { inApp: 'yes' } as never);
    expect(room.send(b2, bob)).toBe('invalid-message');
  });

  it('bounds the times the owner writes: read, seen and archived up to now, a mute up to what a Date holds', () => {
    const room = inboxRoom();
    for (const value of [1e300, -1, Date.now() + 3600_000]) {
      const b = room.replica();
      setNotificationField(b, 'n1', 'readAt', value);
      expect(room.send(b, bob), String(value)).toBe('invalid-message');
    }
    const m = room.replica();
    setMuted(m, 'c1', 1e300);
    expect(room.send(m, bob)).toBe('invalid-message');
    const ok = room.replica();
    setMuted(ok, 'c1', Date.now() + 365 * 24 * 3600_000);
    expect(room.send(ok, bob)).toBe('ok');
  });
});
