import { describe, expect, it } from 'vitest';
import type { IndexableMessage, SearchPosition, Storage, WorkClaim } from './Storage';

const bytes = (...values: number[]) => new Uint8Array(values);
const concat = (parts: Uint8Array[]) => new Uint8Array(parts.flatMap((p) => [...p]));
const bytesOf = async (storage: Storage, doc: string) => {
  const loaded = await storage.documents.load(doc);
  return concat([loaded.snapshot ?? bytes(), ...loaded.updates]);
};

/**
 * The behaviour every Storage implementation must have. Each implementation's
 * test file calls this with a factory for a fresh, empty store.
 */
export function storageSuite(name: string, create: () => Promise<Storage>): void {
  describe(`${name}: documents`, () => {
    it('loads an unknown document as empty', async () => {
      const storage = await create();
      expect(await storage.documents.load('conversation:none')).toEqual({ snapshot: null, updates: [] });
      await storage.close();
    });

    it('appends in order and loads snapshot + tail after compaction', async () => {
      const storage = await create();
      for (let i = 1; i <= 5; i++) await storage.documents.append('doc', bytes(i));
      await storage.documents.append('other', bytes(99));
      expect((await storage.documents.load('doc')).updates).toEqual([1, 2, 3, 4, 5].map((i) => bytes(i)));
      expect(await storage.documents.compact('doc', concat)).toEqual({ folded: 5 });
      await storage.documents.append('doc', bytes(6));
      expect(await storage.documents.load('doc')).toEqual({ snapshot: bytes(1, 2, 3, 4, 5), updates: [bytes(6)] });
      expect(await storage.documents.compact('doc', concat)).toEqual({ folded: 1 });
      expect(await storage.documents.load('doc')).toEqual({ snapshot: bytes(1, 2, 3, 4, 5, 6), updates: [] });
      expect((await storage.documents.load('other')).updates).toEqual([bytes(99)]);
      await storage.close();
    });

    it('squashes only the log while it is small next to the snapshot, and folds both once it has grown', async () => {
      const storage = await create();
      await storage.documents.append('doc', bytes(...Array.from({ length: 10 }, (_, i) => i)));
      await storage.documents.compact('doc', concat, 0.5);
      const calls: boolean[] = [];
      const merge = (parts: Uint8Array[], how: { complete: boolean }) => (calls.push(how.complete), concat(parts));
      for (const v of [10, 11, 12]) await storage.documents.append('doc', bytes(v));
      expect(await storage.documents.compact('doc', merge, 0.5)).toEqual({ folded: 3 });
      expect(await storage.documents.load('doc')).toEqual({ snapshot: bytes(0, 1, 2, 3, 4, 5, 6, 7, 8, 9), updates: [bytes(10, 11, 12)] });
      for (const v of [13, 14]) await storage.documents.append('doc', bytes(v));
      expect(await storage.documents.compact('doc', merge, 0.5)).toEqual({ folded: 3 });
      expect(await storage.documents.load('doc')).toEqual({ snapshot: bytes(...Array.from({ length: 15 }, (_, i) => i)), updates: [] });
      expect(calls).toEqual([false, true]);
      await storage.documents.append('doc', bytes(15));
      expect(await bytesOf(storage, 'doc')).toEqual(bytes(...Array.from({ length: 16 }, (_, i) => i)));
      await storage.close();
    });

    it('keeps updates appended while a compaction is merging', async () => {
      const storage = await create();
      await storage.documents.append('doc', bytes(1));
      await storage.documents.append('doc', bytes(2));
      const appendedDuring: Promise<void>[] = [];
      await storage.documents.compact('doc', (parts) => {
        appendedDuring.push(storage.documents.append('doc', bytes(3)));
        return concat(parts);
      });
      await Promise.all(appendedDuring);
      const loaded = await storage.documents.load('doc');
      expect(concat([loaded.snapshot ?? bytes(), ...loaded.updates])).toEqual(bytes(1, 2, 3));
      await storage.close();
    });

    it('settles appends started together, in the order they were started', async () => {
      const storage = await create();
      const started = Array.from({ length: 100 }, (_, i) => storage.documents.append('burst', bytes(i)));
      await storage.documents.settled();
      expect((await storage.documents.load('burst')).updates).toEqual(Array.from({ length: 100 }, (_, i) => bytes(i)));
      await Promise.all(started);
      await storage.close();
    });

    it('names the documents whose log outgrew a bound', async () => {
      const storage = await create();
      for (let i = 0; i < 3; i++) await storage.documents.append('busy', bytes(i));
      await storage.documents.append('quiet', bytes(1));
      const bounds = { maxUpdates: 3, maxBytes: 1e9, majorRatio: 0.5, olderThan: 0 };
      expect(await storage.documents.compactionCandidates(bounds)).toEqual(['busy']);
      expect((await storage.documents.compactionCandidates({ ...bounds, maxUpdates: 100, olderThan: Date.now() + 1000 })).sort()).toEqual(['busy', 'quiet']);
      // By size: a log past maxBytes is a candidate only once it is also past majorRatio of its snapshot.
      await storage.documents.append('long', bytes(...Array.from({ length: 20 }, (_, i) => i)));
      await storage.documents.compact('long', concat);
      await storage.documents.append('long', bytes(1, 2, 3, 4, 5, 6, 7, 8));
      const bySize = { ...bounds, maxUpdates: 100, maxBytes: 4 };
      expect(await storage.documents.compactionCandidates(bySize)).toEqual([]);
      await storage.documents.append('long', bytes(9, 10));
      expect(await storage.documents.compactionCandidates(bySize)).toEqual(['long']);
      await storage.close();
    });
  });

  describe(`${name}: conversation work marks`, () => {
    it('keeps one mark per conversation, and clears and marks in the order they were started', async () => {
      const storage = await create();
      await Promise.all([storage.work.mark('c1'), storage.work.mark('c1'), storage.work.mark('c2')]);
      expect(await storage.work.all()).toEqual(['c1', 'c2']);
      await Promise.all([storage.work.clear('c1', 2, 'n'), storage.work.mark('c1'), storage.work.mark('c2'), storage.work.clear('c2', 2, 'n')]);
      expect(await storage.work.all()).toEqual(['c1']);
      await storage.close();
    });

    it('bumps the version on every mark and clears only the version read', async () => {
      const storage = await create();
      // A recompute reads the version with its claim (the holder may claim again).
      const read = (): Promise<WorkClaim> => storage.work.claim('c', 'n', 2_000, 1_000);
      expect(await read()).toEqual({ kind: 'none' });
      await storage.work.mark('c');
      expect(await read()).toEqual({ kind: 'claimed', version: 1 });
      // A change stored after the recompute read the mark: the clear of the old version leaves it.
      await storage.work.mark('c');
      expect(await read()).toEqual({ kind: 'claimed', version: 2 });
      expect(await storage.work.clear('c', 1, 'n')).toBe(true);
      expect(await storage.work.all()).toEqual(['c']);
      expect(await storage.work.clear('c', 2, 'n')).toBe(false);
      expect(await read()).toEqual({ kind: 'none' });
      expect(await storage.work.all()).toEqual([]);
      // Cleared, then marked again: a fresh mark, not undone by a late clear of an older version.
      await storage.work.mark('c');
      await storage.work.clear('c', 2, 'n');
      expect(await read()).toEqual({ kind: 'claimed', version: 1 });
      await storage.close();
    });

    it('lets one claimant at a time recompute a conversation, until its claim ends or runs out', async () => {
      const storage = await create();
      expect(await storage.work.claim('c', 'a', 2_000, 1_000)).toEqual({ kind: 'none' });
      await storage.work.mark('c');
      expect(await storage.work.claim('c', 'a', 2_000, 1_000)).toEqual({ kind: 'claimed', version: 1 });
      // Another node meanwhile: busy until the holder's end; the holder may claim again (a second run).
      expect(await storage.work.claim('c', 'b', 2_500, 1_500)).toEqual({ kind: 'busy', until: 2_000 });
      expect(await storage.work.claim('c', 'a', 3_000, 1_500)).toEqual({ kind: 'claimed', version: 1 });
      // A mark while it is held keeps the claim; a release ends it and keeps the mark.
      await storage.work.mark('c');
      expect(await storage.work.claim('c', 'b', 3_500, 2_000)).toEqual({ kind: 'busy', until: 3_000 });
      await storage.work.release('c', 'a');
      expect(await storage.work.claim('c', 'b', 4_000, 2_000)).toEqual({ kind: 'claimed', version: 2 });
      // Only the holder's release or clear ends a claim.
      await storage.work.release('c', 'a');
      expect(await storage.work.claim('c', 'a', 5_000, 3_000)).toEqual({ kind: 'busy', until: 4_000 });
      // A holder that died: its claim is taken over once its time ran out.
      expect(await storage.work.claim('c', 'a', 6_000, 4_001)).toEqual({ kind: 'claimed', version: 2 });
      // A clear that finds a newer mark ends the claim, keeps the mark, and says so.
      await storage.work.mark('c');
      expect(await storage.work.clear('c', 2, 'a')).toBe(true);
      expect(await storage.work.claim('c', 'b', 7_000, 5_000)).toEqual({ kind: 'claimed', version: 3 });
      expect(await storage.work.clear('c', 3, 'b')).toBe(false);
      expect(await storage.work.claim('c', 'a', 8_000, 6_000)).toEqual({ kind: 'none' });
      await storage.close();
    });
  });

  describe(`${name}: conversations and users`, () => {
    it('creates once, gets-or-creates direct ones, and manages members', async () => {
      const storage = await create();
      const base = { kind: 'group' as const, title: 'T', createdBy: 'a', createdAt: 1, ref: null, directKey: null };
      expect(await storage.conversations.create({ ...base, id: 'c1', members: [{ userId: 'a', role: 'owner', joinedAt: 1 }] })).toEqual({ id: 'c1', created: true });
      expect(await storage.conversations.create({ ...base, id: 'c1', members: [] })).toEqual({ id: 'c1', created: false });
      const direct = { ...base, kind: 'direct' as const, id: 'dm-1', directKey: 'dm-1', members: [] };
      expect((await storage.conversations.create(direct)).created).toBe(true);
      expect((await storage.conversations.create(direct)).created).toBe(false);
      expect(await storage.conversations.addMember('c1', { userId: 'b', role: 'member', joinedAt: 2 })).toBe(true);
      expect(await storage.conversations.addMember('c1', { userId: 'b', role: 'member', joinedAt: 3 })).toBe(false);
      expect(await storage.conversations.role('c1', 'b')).toBe('member');
      expect(await storage.conversations.shareAny('a', 'b')).toBe(true);
      expect(await storage.conversations.shareAny('a', 'z')).toBe(false);
      expect((await storage.conversations.listFor('b')).map((c) => c.id)).toEqual(['c1']);
      expect(await storage.conversations.removeMember('c1', 'b')).toBe(true);
      expect(await storage.conversations.removeMember('c1', 'b')).toBe(false);
      expect(await storage.conversations.members('c1')).toEqual([{ userId: 'a', role: 'owner', joinedAt: 1 }]);
      // Who left is remembered (erasure still reaches their inbox), until forgotten; joining again and leaving keeps one row.
      expect(await storage.conversations.formerMembers('c1')).toEqual(['b']);
      expect(await storage.conversations.formerMembers('dm-1')).toEqual([]);
      expect(await storage.conversations.addMember('c1', { userId: 'b', role: 'member', joinedAt: 4 })).toBe(true);
      expect(await storage.conversations.removeMember('c1', 'b')).toBe(true);
      expect(await storage.conversations.formerMembers('c1')).toEqual(['b']);
      await storage.conversations.forgetFormerMember('c1', 'b');
      expect(await storage.conversations.formerMembers('c1')).toEqual([]);
      await storage.users.remember('a', 'Ann');
      await storage.users.remember('a');
      await storage.users.setLastSeen('a', 42);
      expect(await storage.users.get(['a', 'nobody'])).toEqual([{ id: 'a', name: 'Ann', lastSeenAt: 42 }]);
      expect(await storage.clients.bind('doc', 7, 'a')).toBe('a');
      // First come, first served; the answer names the owner (another server's binding, in a cluster).
      expect(await storage.clients.bind('doc', 7, 'b')).toBe('a');
      expect(await storage.clients.owner('doc', 7)).toBe('a');
      expect(await storage.clients.owner('doc', 8)).toBeNull();
      expect(await storage.clients.all('doc')).toEqual(new Map([[7, 'a']]));
      await storage.close();
    });
  });

  describe(`${name}: message index`, () => {
    const message = (id: string, text: string, extra: Partial<IndexableMessage> = {}): IndexableMessage => ({
      id, author: 'ann', kind: 'text', text, createdAt: 1000, reactions: {}, ...extra,
    });
    const withMembers = async (storage: Storage, id: string, members: string[]) => {
      await storage.conversations.create({
        id, kind: 'group', title: id, createdBy: members[0]!, createdAt: 1, ref: null, directKey: null,
        members: members.map((userId) => ({ userId, role: 'member' as const, joinedAt: 1 })),
      });
    };

    it('keeps the order of acceptance, updates in place, and pages newest first', async () => {
      const storage = await create();
      await storage.documents.append('conversation:c', bytes(1), { conversationId: 'c', messages: [message('m1', 'one'), message('m2', 'two')], reads: [] });
      await storage.messages.write({ conversationId: 'c', messages: [message('m3', 'three'), message('m1', 'ONE', { editedAt: 5 })], reads: [] });
      const page = await storage.messages.page('c', null, 2);
      expect(page.messages.map((m) => [m.id, m.seq, m.text])).toEqual([['m3', 3, 'three'], ['m2', 2, 'two']]);
      expect(page.more).toBe(true);
      const older = await storage.messages.page('c', 2, 2);
      expect(older).toEqual({ messages: [{ ...message('m1', 'ONE', { editedAt: 5 }), conversationId: 'c', seq: 1 }], more: false });
      expect((await storage.messages.last('c'))?.id).toBe('m3');
      expect(await storage.messages.get('c', 'nope')).toBeNull();
      await storage.close();
    });

    it('counts unread exactly from the receipt, skipping own, deleted and system messages', async () => {
      const storage = await create();
      const many = Array.from({ length: 2500 }, (_, i) => message(`m${i}`, `t${i}`, { author: i % 2 ? 'bob' : 'ann' }));
      await storage.messages.write({ conversationId: 'c', messages: many, reads: [] });
      expect(await storage.messages.unread('c', 'ann')).toBe(1250);
      await storage.messages.write({ conversationId: 'c', messages: [message('m1', '', { author: 'bob', deletedAt: 9 })], reads: [{ userId: 'ann', messageId: 'm0', at: 2 }] });
      expect(await storage.messages.unread('c', 'ann')).toBe(1249);
      await storage.messages.write({ conversationId: 'c', messages: [], reads: [{ userId: 'ann', messageId: 'm2499', at: 3 }] });
      expect(await storage.messages.unread('c', 'ann')).toBe(0);
      await storage.close();
    });

    it('searches words and prefixes, best match first, in the member\'s conversations only, never deleted text', async () => {
      const storage = await create();
      await withMembers(storage, 'c1', ['ann', 'bob']);
      await withMembers(storage, 'c2', ['bob']);
      await storage.messages.write({
        conversationId: 'c1',
        messages: [message('a', 'the invoice is paid'), message('b', 'invoice invoice invoice'), message('c', 'secret invoice', { deletedAt: 3, text: '' })],
        reads: [],
      });
      await storage.messages.write({ conversationId: 'c2', messages: [message('d', 'invoice for bob only')], reads: [] });
      const hits = await storage.messages.search({ userId: 'ann', match: '"invo"*', window: 1000, limit: 10 });
      expect(hits.map((h) => h.message.id)).toEqual(['b', 'a']);
      expect(hits[1]!.snippet).toBe('the \u0001invoice\u0002 is paid');
      expect((await storage.messages.search({ userId: 'bob', match: '"invoice"*', window: 1000, limit: 10, conversationId: 'c2' })).map((h) => h.message.id)).toEqual(['d']);
      const first = await storage.messages.search({ userId: 'bob', match: '"invoice"*', window: 1000, limit: 1 });
      const rest = await storage.messages.search({ userId: 'bob', match: '"invoice"*', window: 1000, limit: 10, after: first[0]!.position });
      expect([...first, ...rest].map((h) => h.message.id).sort()).toEqual(['a', 'b', 'd']);
      // An edit is indexed again; the old words no longer match.
      await storage.messages.write({ conversationId: 'c1', messages: [message('a', 'receipt sent', { editedAt: 4 })], reads: [] });
      expect((await storage.messages.search({ userId: 'ann', match: '"paid"*', window: 1000, limit: 10 })).length).toBe(0);
      expect((await storage.messages.search({ userId: 'ann', match: '"receipt"*', window: 1000, limit: 10 })).map((h) => h.message.id)).toEqual(['a']);
      // Leaving a conversation ends its matches.
      await storage.conversations.removeMember('c1', 'ann');
      expect(await storage.messages.search({ userId: 'ann', match: '"receipt"*', window: 1000, limit: 10 })).toEqual([]);
      await storage.close();
    });

    it('ranks matches in windows of the newest ones, and pages on through older windows, unmoved by new messages', async () => {
      const storage = await create();
      await withMembers(storage, 'c', ['ann']);
      await withMembers(storage, 'other', ['bob']);
      // Oldest first; more "tax" in a text ranks it better. Bob's conversation matches too, never for Ann.
      const texts = ['tax', 'tax tax tax', 'tax tax', 'tax tax tax tax', 'tax and more words here'];
      for (const [i, text] of texts.entries()) {
        await storage.messages.write({ conversationId: 'c', messages: [message(`t${i}`, text)], reads: [] });
        await storage.messages.write({ conversationId: 'other', messages: [message(`o${i}`, 'tax tax tax tax tax')], reads: [] });
      }
      await storage.messages.write({ conversationId: 'c', messages: [message('deleted', '', { deletedAt: 5 })], reads: [] });
      const search = (after?: SearchPosition) => storage.messages.search({ userId: 'ann', match: '"tax"*', window: 2, limit: 1, ...(after && { after }) });
      // Windows of 2, newest first: [t4, t3] -> t3 t4; [t2, t1] -> t1 t2; [t0].
      const order: string[] = [];
      let page = await search();
      while (page.length > 0) {
        order.push(page[0]!.message.id);
        if (order.length === 2) await storage.messages.write({ conversationId: 'c', messages: [message('new', 'tax tax tax tax tax tax')], reads: [] });
        page = await search(page[0]!.position);
      }
      expect(order).toEqual(['t3', 't4', 't1', 't2', 't0']);
      // A new search starts at the newest window; a page may span two windows.
      expect((await storage.messages.search({ userId: 'ann', match: '"tax"*', window: 2, limit: 3 })).map((h) => h.message.id)).toEqual(['new', 't4', 't3']);
      expect((await storage.messages.search({ userId: 'ann', match: '"tax"*', window: 1000, limit: 10 })).map((h) => h.message.id)).toEqual(['new', 't3', 't1', 't2', 't0', 't4']);
      await storage.close();
    });

    it('cuts a short text\'s snippet as the whole text, markup-like characters included, and a long one around the match', async () => {
      const storage = await create();
      await withMembers(storage, 'c', ['ann']);
      const long = `${Array.from({ length: 40 }, (_, i) => `w${i}`).join(' ')} needle ${Array.from({ length: 40 }, (_, i) => `v${i}`).join(' ')}`;
      await storage.messages.write({ conversationId: 'c', messages: [message('short', '<img src=x onerror=alert(1)> & "q"'), message('long', long)], reads: [] });
      const [short] = await storage.messages.search({ userId: 'ann', match: '"onerror"*', window: 1000, limit: 5 });
      expect(short!.snippet).toBe('<img src=x \u0001onerror\u0002=alert(1)> & "q"');
      const [cut] = await storage.messages.search({ userId: 'ann', match: '"needle"*', window: 1000, limit: 5 });
      expect(cut!.snippet).toContain('\u0001needle\u0002');
      expect(cut!.snippet.split(' ').length).toBeLessThan(30);
      await storage.close();
    });

    it('writes nothing of an append whose transaction fails', async () => {
      const storage = await create();
      await storage.messages.write({ conversationId: 'c', messages: [message('m1', 'one')], reads: [] });
      // A message without a text breaks a NOT NULL constraint: the update must not be stored either.
      const broken = { ...message('m2', 'two'), text: null as unknown as string };
      await expect(storage.documents.append('conversation:c', bytes(7), { conversationId: 'c', messages: [message('m3', 'three'), broken], reads: [] })).rejects.toThrow();
      expect((await storage.documents.load('conversation:c')).updates).toEqual([]);
      expect((await storage.messages.page('c', null, 10)).messages.map((m) => m.id)).toEqual(['m1']);
      await storage.close();
    });

    it('remembers which conversations are built', async () => {
      const storage = await create();
      expect(await storage.messages.isBuilt('c')).toBe(false);
      await storage.messages.markBuilt('c', 1);
      await storage.messages.markBuilt('c', 2);
      expect(await storage.messages.isBuilt('c')).toBe(true);
      await storage.close();
    });
  });
}
