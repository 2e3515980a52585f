import { afterAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { PostgresStorage } from './PostgresStorage';
import { StorageWriteError } from './StorageWriteError';
import { storageSuite } from './storage.suite';
import { moderationSuite } from './moderation.suite';
import { historySuite } from './history.suite';
import { deliverySuite } from './delivery.suite';
import { createSchema, dropSchemas, TEST_DATABASE_URL } from './postgres/testDatabase';

const schemas = new Set<string>();
const fresh = async () => {
  const schema = await createSchema();
  schemas.add(schema);
  return PostgresStorage.open({ connectionString: TEST_DATABASE_URL, schema, max: 4 });
};
afterAll(() => dropSchemas(schemas));

storageSuite('PostgresStorage', fresh);
moderationSuite('PostgresStorage', fresh);
historySuite('PostgresStorage', fresh);
deliverySuite('PostgresStorage', fresh);

/**
 * How many tuples of a heap relation, live or dead, hold these bytes, read raw
 * (pageinspect). Tuples, not whole pages: VACUUM removes dead tuples but does
 * not zero the free space they leave (see PostgresStorage.scrub).
 */
async function pagesHolding(admin: pg.Client, relation: string, needle: string): Promise<number> {
  const { rows } = await admin.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM generate_series(0, (pg_relation_size($1::regclass) / current_setting('block_size')::int) - 1) AS page,
       heap_page_items(get_raw_page($1::text, page::int)) AS item
     WHERE item.lp_flags = 1 AND position(convert_to($2, 'UTF8') IN item.t_data) > 0`,
    [relation, needle],
  );
  return rows[0]!.n;
}

describe('PostgresStorage', () => {
  it('keeps data across reopening, and commits a burst in fewer transactions than writes', async () => {
    const schema = await createSchema();
    schemas.add(schema);
    const first = await PostgresStorage.open({ connectionString: TEST_DATABASE_URL, schema });
    await Promise.all(Array.from({ length: 50 }, (_, i) => first.documents.append(`doc${i}`, new Uint8Array([i]))));
    // Rows inserted by one transaction share its id (xmin).
    const { rows } = await first.pool.query<{ n: number }>('SELECT count(DISTINCT xmin::text)::int AS n FROM doc_updates');
    expect(rows[0]!.n).toBe(1);
    await first.close();
    const second = await PostgresStorage.open({ connectionString: TEST_DATABASE_URL, schema });
    expect((await second.documents.load('doc7')).updates).toEqual([new Uint8Array([7])]);
    await second.close();
  });

  it('a write that fails takes every write of its transaction with it, and fences its document until it is loaded again', async () => {
    const storage = await fresh();
    await storage.documents.append('a', new Uint8Array([1]));
    const good = storage.documents.append('a', new Uint8Array([2]));
    const bad = storage.documents.append('b', new Uint8Array([3]), { conversationId: 'c', messages: [{ id: 'm', author: 'x', kind: 'text', text: null as unknown as string, createdAt: 1, reactions: {} }], reads: [] });
    await expect(good).rejects.toThrow();
    await expect(bad).rejects.toThrow();
    await expect(storage.documents.append('a', new Uint8Array([4]))).rejects.toThrow(/reload it first/);
    expect((await storage.documents.load('a')).updates).toEqual([new Uint8Array([1])]);
    await storage.documents.append('a', new Uint8Array([5]));
    expect((await storage.documents.load('a')).updates).toEqual([new Uint8Array([1]), new Uint8Array([5])]);
    await storage.close();
  });

  it('stores hostile text and bytes exactly through the literal-built append path', async () => {
    const storage = await fresh();
    const text = "it's \\'; DROP TABLE messages; -- $1 $$ E'\\x00' \u{1F600} \u0301";
    const bytes = new Uint8Array([0, 39, 92, 255, 0]);
    const message = { id: "o'neil\\", author: "a'", kind: 'text' as const, text, createdAt: 1, reactions: { "👍'": 1 } };
    await storage.documents.append("doc'\\", bytes, { conversationId: "c'", messages: [message], reads: [{ userId: "u'", messageId: "o'neil\\", at: 2 }] }, [{ queue: "q'", data: { s: text } }]);
    expect((await storage.documents.load("doc'\\")).updates).toEqual([bytes]);
    expect(await storage.messages.get("c'", "o'neil\\")).toMatchObject({ text, author: "a'", reactions: { "👍'": 1 } });
    expect((await storage.jobs.list({ queue: "q'", limit: 5 }))[0]?.data).toEqual({ s: text });
    await storage.close();
  });

  it('a connection PostgreSQL ends in the middle of a batch fails every append in it with a StorageWriteError, stores none, and the next writes work', async () => {
    const schema = await createSchema();
    schemas.add(schema);
    const name = `parley-fault-${schema}`;
    const storage = await PostgresStorage.open({ connectionString: TEST_DATABASE_URL, schema, applicationName: name });
    const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
    // Hold the document's lock, so the batch waits inside its transaction; then end that connection.
    await admin.query('SELECT pg_advisory_lock(1, hashtext($1))', ['held']);
    const batch = [storage.documents.append('other', new Uint8Array([1])), storage.documents.append('held', new Uint8Array([2]))];
    const waiting = async () =>
      (await admin.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'", [name])).rows[0]!.n > 0;
    for (let tries = 0; !(await waiting()); tries++) {
      if (tries > 200) throw new Error('the batch never waited for the lock');
      await new Promise((r) => setTimeout(r, 25));
    }
    await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'", [name]);
    for (const append of batch) await expect(append).rejects.toBeInstanceOf(StorageWriteError);
    await admin.query('SELECT pg_advisory_unlock(1, hashtext($1))', ['held']);
    await admin.end();
    expect((await storage.documents.load('other')).updates).toEqual([]);
    expect((await storage.documents.load('held')).updates).toEqual([]);
    await storage.documents.append('held', new Uint8Array([3]));
    expect((await storage.documents.load('held')).updates).toEqual([new Uint8Array([3])]);
    await storage.close();
  });

  it('matches words without their diacritics, as FTS5 does', async () => {
    const storage = await fresh();
    await storage.conversations.create({ id: 'c', kind: 'group', title: 'c', createdBy: 'ann', createdAt: 1, ref: null, directKey: null, members: [{ userId: 'ann', role: 'owner', joinedAt: 1 }] });
    await storage.messages.write({ conversationId: 'c', messages: [{ id: 'm', author: 'ann', kind: 'text', text: 'Rendez-vous au Café Crème', createdAt: 1, reactions: {} }], reads: [] });
    expect((await storage.messages.search({ userId: 'ann', match: '"cafe"* "creme"*', window: 1000, limit: 5 })).map((h) => h.message.id)).toEqual(['m']);
    expect((await storage.messages.search({ userId: 'ann', match: '"vous"*', window: 1000, limit: 5 })).map((h) => h.message.id)).toEqual(['m']);
    await expect(storage.messages.search({ userId: 'ann', match: 'cafe OR 1', window: 1000, limit: 5 })).rejects.toThrow(/not a prefix-term/);
    await storage.close();
  });

  it('scrub: after a deletion, VACUUM leaves no tuple, live or dead, with the old text in the index table, its TOAST, or the folded document log', async () => {
    const schema = await createSchema();
    schemas.add(schema);
    const storage = await PostgresStorage.open({ connectionString: TEST_DATABASE_URL, schema, max: 2 });
    const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
    await admin.query('CREATE EXTENSION IF NOT EXISTS pageinspect');
    const secret = 'zqxsecretzqx';
    // A long text (past the TOAST threshold) and a short one, among others that stay.
    const long = `${secret} ${'x'.repeat(5000)} ${Array.from({ length: 800 }, (_, i) => `w${i}`).join(' ')}`;
    const message = (id: string, text: string, extra = {}) => ({ id, author: 'ann', kind: 'text' as const, text, createdAt: 1, reactions: {}, ...extra });
    const others = Array.from({ length: 30 }, (_, i) => message(`o${i}`, `other text ${i}`));
    await storage.documents.append('conversation:c', new TextEncoder().encode(`update with ${secret}`), {
      conversationId: 'c', messages: [message('m1', `short ${secret} text`), message('m2', long), ...others], reads: [],
    });
    await storage.messages.write({ conversationId: 'c', messages: [message('m1', '', { deletedAt: 2 }), message('m2', '', { deletedAt: 2 })], reads: [] });
    await storage.documents.compact('conversation:c', () => new TextEncoder().encode('garbage-collected'), 0);
    const toast = (await admin.query<{ t: string }>('SELECT reltoastrelid::regclass::text AS t FROM pg_class WHERE oid = $1::regclass', [`${schema}.messages`])).rows[0]!.t;
    const relations = [`${schema}.messages`, toast, `${schema}.doc_updates`, `${schema}.doc_snapshots`];
    const holding = async () => {
      const counts: number[] = [];
      for (const relation of relations) counts.push(await pagesHolding(admin, relation, secret));
      return counts;
    };
    expect((await holding()).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    await storage.scrub();
    expect(await holding()).toEqual([0, 0, 0, 0]);
    expect((await storage.messages.page('c', null, 100)).messages).toHaveLength(32);
    await admin.end();
    await storage.close();
  });
});

describe('PostgresStorage attachments across nodes', () => {
  it("one node's upload and removal reach another node's mirror (LISTEN/NOTIFY), so its synchronous lookups see them", async () => {
    const schema = await createSchema();
    schemas.add(schema);
    const [a, b] = await Promise.all([0, 1].map(() => PostgresStorage.open({ connectionString: TEST_DATABASE_URL, schema, max: 3 })));
    const record = {
      id: 'up1', conversationId: 'c', url: '/v1/conversations/c/attachments/up1', uploader: 'ann', blob: 'h1', thumbnail: 't1',
      name: 'a.png', type: 'image/png', size: 1, width: 1, height: 1, createdAt: 1,
    };
    const eventually = async (check: () => boolean) => {
      for (let tries = 0; !check(); tries++) {
        if (tries > 400) throw new Error('the other node never heard of the change');
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    await a!.attachments.insert(record);
    await eventually(() => b!.attachments.find(record.url) !== null);
    expect(b!.attachments.find(record.url)).toEqual(record);
    expect(b!.attachments.blobInUse('t1')).toBe(true);
    await a!.attachments.remove('up1');
    await eventually(() => b!.attachments.find(record.url) === null);
    expect(b!.attachments.blobInUse('t1')).toBe(false);
    // A node opened later loads what is there.
    await b!.attachments.insert({ ...record, id: 'up2', url: '/v1/conversations/c/attachments/up2' });
    const c = await PostgresStorage.open({ connectionString: TEST_DATABASE_URL, schema, max: 2 });
    expect(c.attachments.find('/v1/conversations/c/attachments/up2')?.id).toBe('up2');
    await Promise.all([a!.close(), b!.close(), c.close()]);
  });
});
