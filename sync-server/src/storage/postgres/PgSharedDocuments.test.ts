/**
 * Two stores on one schema, as two servers share PostgreSQL (issue 15): each
 * hears of the other's writes after their commit, and a write of a document
 * the other replaced (renewed) meanwhile fails alone, without its batch.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresStorage } from '../PostgresStorage';
import { DocumentReplacedError } from '../StorageWriteError';
import type { DocumentEvent } from '../Storage';
import { createSchema, dropSchemas, TEST_DATABASE_URL } from './testDatabase';

const schemas = new Set<string>();
afterAll(() => dropSchemas(schemas));

async function twoNodes(): Promise<[PostgresStorage, PostgresStorage]> {
  const schema = await createSchema();
  schemas.add(schema);
  const open = () => PostgresStorage.open({ connectionString: TEST_DATABASE_URL, schema, max: 4 });
  const a = await open();
  return [a, await open()];
}

const bytes = (...values: number[]) => new Uint8Array(values);

async function until(condition: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('PostgreSQL shared by two servers', () => {
  it('announces every committed append and renewal to every listener, in commit order, with the update or its log position', async () => {
    const [a, b] = await twoNodes();
    const heard: DocumentEvent[] = [];
    const stop = await b.shared.listen((event) => heard.push(event));
    await a.documents.load('conversation:x');
    await a.documents.append('conversation:x', bytes(1, 2, 3));
    const big = new Uint8Array(20_000).fill(7);
    await a.documents.append('conversation:x', big);
    await a.documents.renew('conversation:x', () => ({ update: bytes(9), serverClientId: 5 }), 'server');
    await until(() => heard.length === 3, 'three announcements');
    expect(heard[0]).toMatchObject({ type: 'update', doc: 'conversation:x', node: a.shared.node, generation: 0, update: bytes(1, 2, 3) });
    // Too large for a notification: by position; the log has it (until a compaction folds it).
    const second = heard[1] as Extract<DocumentEvent, { type: 'update' }>;
    expect(second.update).toBeNull();
    expect(heard[2]).toEqual({ type: 'replaced', doc: 'conversation:x', node: a.shared.node, generation: 1 });
    expect(await a.shared.fetchUpdate('conversation:x', second.seq)).toBeNull(); // the renewal dropped the old log
    expect(a.shared.node).not.toBe(b.shared.node);
    await stop();
    await a.close();
    await b.close();
  });

  it('fails an append of a document renewed elsewhere since it was loaded, and commits the rest of its batch', async () => {
    const [a, b] = await twoNodes();
    await a.documents.append('conversation:y', bytes(1));
    await a.documents.load('conversation:y');
    await b.documents.load('conversation:y');
    // B renews, and is given what A stored meanwhile to build the new epoch from.
    await a.documents.append('conversation:y', bytes(2));
    let given: Uint8Array[] = [];
    await b.documents.renew('conversation:y', (stored) => {
      given = stored!.updates;
      return { update: bytes(8), serverClientId: 6 };
    }, 'server');
    expect(given).toEqual([bytes(1), bytes(2)]);
    // A still holds generation 0: its append fails, an append of another document queued with it does not.
    const stale = a.documents.append('conversation:y', bytes(3));
    const other = a.documents.append('inbox:u', bytes(4));
    await expect(stale).rejects.toBeInstanceOf(DocumentReplacedError);
    await other;
    // Later appends of it stay refused until it is loaded again (the new epoch).
    await expect(a.documents.append('conversation:y', bytes(5))).rejects.toThrow();
    expect(await a.documents.load('conversation:y')).toEqual({ snapshot: bytes(8), updates: [] });
    await a.documents.append('conversation:y', bytes(6));
    expect(await b.documents.load('conversation:y')).toEqual({ snapshot: bytes(8), updates: [bytes(6)] });
    expect(await b.documents.load('inbox:u')).toEqual({ snapshot: null, updates: [bytes(4)] });
    // A renewal from a stale generation fails the same way.
    await expect(b.documents.renew('conversation:y', () => ({ update: bytes(7), serverClientId: 7 }), 'server')).resolves.toBeUndefined();
    await expect(a.documents.renew('conversation:y', () => ({ update: bytes(7), serverClientId: 8 }), 'server')).rejects.toBeInstanceOf(DocumentReplacedError);
    await a.close();
    await b.close();
  });

  it('reports resync after its LISTEN connection was cut, and hears again', async () => {
    const [a, b] = await twoNodes();
    const heard: DocumentEvent[] = [];
    const stop = await b.shared.listen((event) => heard.push(event));
    await b.pool.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'parley-listen' AND pid <> pg_backend_pid() AND query LIKE 'LISTEN%'");
    await until(() => heard.some((e) => e.type === 'resync'), 'resync');
    await a.documents.append('conversation:z', bytes(1));
    await until(() => heard.some((e) => e.type === 'update'), 'an announcement after the reconnect');
    await stop();
    await a.close();
    await b.close();
  });
});
