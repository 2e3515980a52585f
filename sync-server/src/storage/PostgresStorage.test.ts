import { afterAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { PostgresStorage } from './PostgresStorage';
import { StorageWriteError } from './StorageWriteError';
import { storageSuite } from './storage.suite';
import { moderationSuite } from './moderation.suite';
import { historySuite } from './history.suite';
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
    expect((await storage.messages.search({ userId: 'ann', match: '"cafe"* "creme"*', limit: 5 })).map((h) => h.message.id)).toEqual(['m']);
    expect((await storage.messages.search({ userId: 'ann', match: '"vous"*', limit: 5 })).map((h) => h.message.id)).toEqual(['m']);
    await expect(storage.messages.search({ userId: 'ann', match: 'cafe OR 1', limit: 5 })).rejects.toThrow(/not a prefix-term/);
    await storage.close();
  });
});

