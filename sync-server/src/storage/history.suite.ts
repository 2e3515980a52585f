import { describe, expect, it } from 'vitest';
import type { Notification } from '@parley/schema';
import type { AttachmentRecord, IndexableMessage, Storage } from './Storage';

const bytes = (...values: number[]) => new Uint8Array(values);
const message = (id: string, text: string, extra: Partial<IndexableMessage> = {}): IndexableMessage => ({
  id, author: 'ann', kind: 'text', text, createdAt: 1000, reactions: {}, ...extra,
});
const notification = (id: string, updatedAt: number, extra: Partial<Notification> = {}): Notification => ({
  id, kind: 'chat.message', title: `t ${id}`, body: `b ${id}`, createdAt: updatedAt, updatedAt, count: 1,
  data: {} as Notification['data'], readAt: updatedAt, seenAt: null, archivedAt: null, ...extra,
});
const upload = (id: string, conversationId: string, blob: string, extra: Partial<AttachmentRecord> = {}): AttachmentRecord => ({
  id, conversationId, url: `/v1/conversations/${conversationId}/attachments/${id}`, uploader: 'ann', blob, thumbnail: null,
  name: `${id}.png`, type: 'image/png', size: 10, width: 2, height: 3, createdAt: 1000, ...extra,
});
const attached = (record: AttachmentRecord) => ({ url: record.url, name: record.name, type: record.type, size: record.size });

/**
 * What every Storage must do for the bounded live document, the history
 * index and the inbox archive (issue 9), and for attachments and erasure
 * (issue 14). Each implementation's test file calls this with a factory for
 * a fresh, empty store.
 */
export function historySuite(name: string, create: () => Promise<Storage>): void {
  describe(`${name}: live-document renewal`, () => {
    it('replaces the whole document, retires every bound client id and binds the server for the new epoch', async () => {
      const storage = await create();
      await storage.documents.append('conversation:c', bytes(1));
      await storage.clients.bind('conversation:c', 11, 'ann');
      await storage.clients.bind('conversation:c', 12, 'bob');
      await storage.clients.bind('conversation:other', 13, 'ann');
      await storage.documents.compact('conversation:c', (parts) => parts[parts.length - 1]!);
      await storage.documents.append('conversation:c', bytes(2));
      // Queued before the renewal: stored before it, and so dropped with the old log.
      const before = storage.documents.append('conversation:c', bytes(3));
      const renewal = storage.documents.renew('conversation:c', () => ({ update: bytes(9, 9), serverClientId: 99 }), 'server');
      await Promise.all([before, renewal]);
      await storage.documents.append('conversation:c', bytes(4));
      expect(await storage.documents.load('conversation:c')).toEqual({ snapshot: bytes(9, 9), updates: [bytes(4)] });
      expect(await storage.clients.all('conversation:c')).toEqual(new Map([[99, 'server']]));
      expect(await storage.clients.anyRetired('conversation:c', [5, 12])).toBe(true);
      expect(await storage.clients.anyRetired('conversation:c', [5, 99])).toBe(false);
      expect(await storage.clients.anyRetired('conversation:c', [])).toBe(false);
      expect(await storage.clients.anyRetired('conversation:other', [11, 13])).toBe(false);
      // A second renewal retires the first epoch's server id too.
      await storage.documents.renew('conversation:c', () => ({ update: bytes(8), serverClientId: 100 }), 'server');
      expect(await storage.clients.anyRetired('conversation:c', [99])).toBe(true);
      expect(await storage.documents.load('conversation:c')).toEqual({ snapshot: bytes(8), updates: [] });
      await storage.close();
    });

    it('is refused after a failed append of the document, until it is loaded again', async () => {
      const storage = await create();
      await storage.documents.append('conversation:c', bytes(1));
      const broken = { ...message('m', 'x'), text: null as unknown as string };
      await expect(storage.documents.append('conversation:c', bytes(2), { conversationId: 'c', messages: [broken], reads: [] })).rejects.toThrow();
      await expect(storage.documents.renew('conversation:c', () => ({ update: bytes(9), serverClientId: 99 }), 'server')).rejects.toThrow(/reload it first/);
      expect(await storage.documents.load('conversation:c')).toEqual({ snapshot: null, updates: [bytes(1)] });
      await storage.documents.renew('conversation:c', () => ({ update: bytes(9), serverClientId: 99 }), 'server');
      expect(await storage.documents.load('conversation:c')).toEqual({ snapshot: bytes(9), updates: [] });
      await storage.close();
    });
  });

  describe(`${name}: history index`, () => {
    it('names the ids a conversation has, and writes archived changes in place', async () => {
      const storage = await create();
      await storage.messages.write({ conversationId: 'c', messages: [message('m1', 'one'), message('m2', 'two')], reads: [] });
      await storage.messages.write({ conversationId: 'd', messages: [message('m3', 'three')], reads: [] });
      expect((await storage.messages.existing('c', ['m2', 'm3', 'm1', 'zz'])).sort()).toEqual(['m1', 'm2']);
      expect(await storage.messages.existing('c', [])).toEqual([]);
      // One id, the common case (a lookup of its own in SQLite): in its conversation only.
      expect(await storage.messages.existing('c', ['m2'])).toEqual(['m2']);
      expect(await storage.messages.existing('c', ['m3'])).toEqual([]);
      const mark = storage.work.mark('c');
      await storage.messages.writeArchived({ conversationId: 'c', messages: [message('m1', 'ONE', { editedAt: 5 })], reads: [] });
      await mark;
      expect(await storage.messages.get('c', 'm1')).toMatchObject({ text: 'ONE', editedAt: 5, seq: 1 });
      expect(await storage.work.all()).toEqual(['c']);
      await storage.close();
    });

    it('counts unread and finds the newest unread without the ignored authors', async () => {
      const storage = await create();
      await storage.messages.write({
        conversationId: 'c',
        messages: [message('m1', 'a', { author: 'bob' }), message('m2', 'b', { author: 'eve' }), message('m3', 'c', { author: 'ann' }), message('m4', 'd', { author: 'sys', kind: 'system' })],
        reads: [],
      });
      expect(await storage.messages.unread('c', 'ann')).toBe(2);
      expect(await storage.messages.unread('c', 'ann', ['eve'])).toBe(1);
      expect(await storage.messages.unread('c', 'ann', ['eve', 'bob'])).toBe(0);
      expect((await storage.messages.latestUnread('c', 'ann'))?.id).toBe('m2');
      expect((await storage.messages.latestUnread('c', 'ann', ['eve']))?.id).toBe('m1');
      expect(await storage.messages.latestUnread('c', 'ann', ['eve', 'bob'])).toBeNull();
      await storage.messages.write({ conversationId: 'c', messages: [], reads: [{ userId: 'ann', messageId: 'm2', at: 2 }] });
      expect(await storage.messages.latestUnread('c', 'ann')).toBeNull();
      expect(await storage.messages.unread('c', 'ann')).toBe(0);
      await storage.close();
    });
  });

  describe(`${name}: unread counts from running tallies`, () => {
    it('counts after edits, deletions, own and system messages, ignored authors and moving receipts', async () => {
      const storage = await create();
      const write = (messages: IndexableMessage[], reads: Array<{ userId: string; messageId: string; at: number }> = []) =>
        storage.messages.write({ conversationId: 'c', messages, reads });
      await write([
        message('m1', 'a', { author: 'bob' }),
        message('m2', 'b', { author: 'ann' }),
        message('m3', 'c', { author: 'eve' }),
        message('m4', 'joined', { author: 'bob', kind: 'system' }),
        message('m5', 'd', { author: 'bob' }),
      ]);
      await storage.messages.write({ conversationId: 'd', messages: [message('x1', 'elsewhere', { author: 'bob' })], reads: [] });
      expect(await storage.messages.unread('c', 'ann')).toBe(3);
      expect(await storage.messages.unread('c', 'ann', ['bob', 'ann', 'bob'])).toBe(1);
      // An edit changes nothing; a deletion removes one, an undone deletion brings it back.
      await write([message('m1', 'A', { author: 'bob', editedAt: 7 })]);
      expect(await storage.messages.unread('c', 'ann')).toBe(3);
      await write([message('m3', '', { author: 'eve', deletedAt: 8 })]);
      expect(await storage.messages.unread('c', 'ann')).toBe(2);
      expect(await storage.messages.unread('c', 'ann', ['eve'])).toBe(2);
      expect(await storage.messages.unread('c', 'eve')).toBe(3);
      await write([message('m3', 'c', { author: 'eve' })]);
      expect(await storage.messages.unread('c', 'ann')).toBe(3);
      expect(await storage.messages.unread('c', 'ann', ['eve'])).toBe(2);
      expect(await storage.messages.unread('c', 'bob', ['eve'])).toBe(1);
      // Receipts: on a message, on a system message, moved back, on an unknown message (counts all).
      await write([], [{ userId: 'ann', messageId: 'm2', at: 1 }]);
      expect(await storage.messages.unread('c', 'ann')).toBe(2);
      await write([], [{ userId: 'ann', messageId: 'm4', at: 2 }]);
      expect(await storage.messages.unread('c', 'ann')).toBe(1);
      await write([], [{ userId: 'ann', messageId: 'm5', at: 3 }]);
      expect(await storage.messages.unread('c', 'ann')).toBe(0);
      await write([], [{ userId: 'ann', messageId: 'm1', at: 4 }]);
      expect(await storage.messages.unread('c', 'ann')).toBe(2);
      await write([], [{ userId: 'ann', messageId: 'nope', at: 5 }]);
      expect(await storage.messages.unread('c', 'ann')).toBe(3);
      expect(await storage.messages.unread('empty', 'ann')).toBe(0);
      await storage.close();
    });

    it('agrees with a row-by-row count over a seeded history written every way the index is written', async () => {
      const storage = await create();
      let state = 20261202;
      const random = () => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648);
      const pick = <T,>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
      const users = ['ann', 'bob', 'eve', 'kim'];
      const model: Array<{ id: string; author: string; kind: 'text' | 'system'; deleted: boolean }> = [];
      const receipts = new Map<string, string>();
      const expected = (userId: string, ignored: readonly string[]) => {
        const from = model.findIndex((m) => m.id === receipts.get(userId));
        return model.slice(from + 1).filter((m) => m.author !== userId && !m.deleted && m.kind !== 'system' && !ignored.includes(m.author)).length;
      };
      const indexed = (m: (typeof model)[number]) => message(m.id, m.deleted ? '' : `t ${m.id}`, { author: m.author, kind: m.kind, ...(m.deleted && { deletedAt: 9 }) });
      for (let round = 0; round < 60; round++) {
        const messages: IndexableMessage[] = [];
        for (let n = Math.floor(random() * 6); n > 0; n--) {
          const fresh = { id: `m${model.length}`, author: pick(users), kind: random() < 0.1 ? ('system' as const) : ('text' as const), deleted: random() < 0.1 };
          model.push(fresh);
          messages.push(indexed(fresh));
        }
        if (model.length > 0 && random() < 0.5) {
          const old = pick(model);
          old.deleted = !old.deleted;
          messages.push(indexed(old));
        }
        const reads = random() < 0.4 && model.length > 0 ? [{ userId: pick(users), messageId: random() < 0.1 ? 'unknown' : pick(model).id, at: round }] : [];
        for (const read of reads) receipts.set(read.userId, read.messageId);
        const change = { conversationId: 'c', messages, reads };
        const way = round % 3;
        if (way === 0) await storage.messages.write(change);
        else if (way === 1) await storage.documents.append('conversation:c', bytes(round), change);
        else await storage.messages.writeArchived(change);
        for (const userId of users) {
          const ignored = users.filter((u) => u !== userId && random() < 0.3);
          expect(await storage.messages.unread('c', userId, ignored), `round ${round}, ${userId} ignoring ${ignored.join(',')}`).toBe(expected(userId, ignored));
        }
      }
      await storage.close();
    });
  });

  describe(`${name}: notification archive`, () => {
    it('keeps settled notifications per user, pages newest first from a cursor, replaces, removes and prunes', async () => {
      const storage = await create();
      await storage.notificationArchive.put('ann', [notification('n1', 10), notification('n2', 20), notification('n3', 20, { archivedAt: 30 }), notification('n1', 15)]);
      await storage.notificationArchive.put('bob', [notification('n1', 50)]);
      expect(await storage.notificationArchive.get('ann', 'n1')).toEqual(notification('n1', 15));
      expect(await storage.notificationArchive.get('ann', 'zz')).toBeNull();
      const all = await storage.notificationArchive.page('ann', { after: null, limit: 10, includeArchived: true });
      expect(all.map((n) => n.id)).toEqual(['n3', 'n2', 'n1']);
      expect((await storage.notificationArchive.page('ann', { after: null, limit: 10, includeArchived: false })).map((n) => n.id)).toEqual(['n2', 'n1']);
      expect((await storage.notificationArchive.page('ann', { after: { updatedAt: 20, id: 'n3' }, limit: 1, includeArchived: true })).map((n) => n.id)).toEqual(['n2']);
      await storage.notificationArchive.remove('ann', ['n2', 'zz']);
      // Retention goes by the last change: n3's archiving at 30 keeps it past a cutoff of 25.
      expect(await storage.notificationArchive.prune(25)).toBe(1);
      expect((await storage.notificationArchive.page('ann', { after: null, limit: 10, includeArchived: true })).map((n) => n.id)).toEqual(['n3']);
      expect(await storage.notificationArchive.get('bob', 'n1')).not.toBeNull();
      await storage.close();
    });

    it('finds a user\'s notifications by id prefix (bytewise, not past the prefix) and sets their bodies where they still are', async () => {
      const storage = await create();
      const ids = ['chat:c1:m1', 'chat:c1:m2', 'chat:c10:m1', 'chat:c1;', 'chat:c', 'mention:c1:m1:ann'];
      await storage.notificationArchive.put('ann', ids.map((id, i) => notification(id, i + 1)));
      await storage.notificationArchive.put('bob', [notification('chat:c1:m9', 1)]);
      expect((await storage.notificationArchive.withIdPrefix('ann', 'chat:c1:')).map((n) => n.id)).toEqual(['chat:c1:m1', 'chat:c1:m2']);
      expect((await storage.notificationArchive.withIdPrefix('ann', 'mention:c1:')).map((n) => n.id)).toEqual(['mention:c1:m1:ann']);
      expect(await storage.notificationArchive.withIdPrefix('ann', 'chat:zz:')).toEqual([]);
      await storage.notificationArchive.setBodies('ann', [{ id: 'chat:c1:m1', body: 'Message deleted' }, { id: 'gone', body: 'x' }]);
      expect(await storage.notificationArchive.get('ann', 'chat:c1:m1')).toEqual({ ...notification('chat:c1:m1', 1), body: 'Message deleted' });
      expect(await storage.notificationArchive.get('ann', 'gone')).toBeNull();
      expect(await storage.notificationArchive.get('ann', 'chat:c1:m2')).toEqual(notification('chat:c1:m2', 2));
      expect(await storage.notificationArchive.get('bob', 'chat:c1:m9')).toEqual(notification('chat:c1:m9', 1));
      await storage.close();
    });
  });

  describe(`${name}: attachments`, () => {
    it('finds uploads by url at once, and knows which blobs another upload still names', async () => {
      const storage = await create();
      const a = upload('a1', 'c', 'h1', { thumbnail: 't1' });
      await storage.attachments.insert(a);
      await storage.attachments.insert(upload('a2', 'c', 'h2', { thumbnail: 'h1' }));
      expect(storage.attachments.find(a.url)).toEqual(a);
      expect(storage.attachments.find('/nope')).toBeNull();
      expect(await storage.attachments.get('c', 'a1')).toEqual(a);
      expect(await storage.attachments.get('other', 'a1')).toBeNull();
      expect(storage.attachments.blobInUse('h1', 'a1')).toBe(true);
      expect(storage.attachments.blobInUse('t1', 'a1')).toBe(false);
      expect(storage.attachments.blobInUse('t1')).toBe(true);
      await expect(storage.attachments.insert(upload('a3', 'c', 'h3', { url: a.url }))).rejects.toThrow();
      expect(storage.attachments.find(a.url)?.id).toBe('a1');
      await storage.attachments.remove('a2');
      expect(storage.attachments.blobInUse('h1', 'a1')).toBe(false);
      expect(storage.attachments.find(upload('a2', 'c', 'h2').url)).toBeNull();
      await storage.close();
    });

    it('follows the messages that refer to an upload, in the index write itself, whichever path wrote it', async () => {
      const storage = await create();
      const [a, b, fresh, elsewhere] = [upload('a', 'c', 'ha'), upload('b', 'c', 'hb'), upload('f', 'c', 'hf', { createdAt: 5000 }), upload('x', 'd', 'hx')];
      for (const record of [a, b, fresh, elsewhere]) await storage.attachments.insert(record);
      const ids = async () => (await storage.attachments.unreferenced('c', 2000)).map((r) => r.id).sort();
      // Never referred to and older than the cutoff: a and b; f is too recent.
      expect(await ids()).toEqual(['a', 'b']);
      await storage.documents.append('conversation:c', bytes(1), { conversationId: 'c', messages: [message('m1', 'pics', { attachments: [attached(a), attached(b)] })], reads: [] });
      // An upload of another conversation named by url is no reference.
      await storage.messages.write({ conversationId: 'c', messages: [message('m2', 'x', { attachments: [attached(elsewhere)] })], reads: [] });
      expect(await ids()).toEqual([]);
      // The edit drops b: referred to once, now by none.
      await storage.messages.writeArchived({ conversationId: 'c', messages: [message('m1', 'pics', { attachments: [attached(a)], editedAt: 2 })], reads: [] });
      expect(await ids()).toEqual(['b']);
      // A deletion drops the rest; f, never referred to, is still within its keep time.
      await storage.messages.write({ conversationId: 'c', messages: [message('m1', '', { deletedAt: 3 })], reads: [] });
      expect(await ids()).toEqual(['a', 'b']);
      expect((await storage.attachments.unreferenced('c', 6000)).map((r) => r.id).sort()).toEqual(['a', 'b', 'f']);
      expect((await storage.attachments.unreferenced('d', 6000)).map((r) => r.id)).toEqual(['x']);
      await storage.close();
    });

    it('scrubs after erasure without losing anything stored', async () => {
      const storage = await create();
      await storage.documents.append('conversation:c', bytes(1), { conversationId: 'c', messages: [message('m1', 'secret words')], reads: [] });
      await storage.messages.write({ conversationId: 'c', messages: [message('m1', '', { deletedAt: 2 })], reads: [] });
      const appended = storage.documents.append('conversation:c', bytes(2));
      await storage.scrub();
      await appended;
      expect((await storage.documents.load('conversation:c')).updates).toEqual([bytes(1), bytes(2)]);
      expect(await storage.messages.get('c', 'm1')).toMatchObject({ text: '', deletedAt: 2 });
      await storage.close();
    });
  });
}
