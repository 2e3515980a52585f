/**
 * One server on PostgreSQL (DATABASE_URL alone): the basics of the contract
 * hold on the shared store as on SQLite, and a server refuses a database it
 * cannot use with one line. (Several servers, with REDIS_URL: e2e/cluster-ops.test.ts.)
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import pg from 'pg';
import { appendMessage, conversationDocName, readMessages } from '@parley/schema';
import { serverCleanup } from './fixtures/serverCleanup';
import { startServer, tempDataDir, type TestServer } from './fixtures/server';
import { connectUser, createConversation, waitFor } from './fixtures/clients';
import { createSchema, urlWithSchema } from '../sync-server/src/storage/postgres/testDatabase';

const root = resolve(import.meta.dirname, '..');
const { servers, schemas } = serverCleanup();

async function start(): Promise<TestServer> {
  const server = await startServer({ store: 'postgres' });
  servers.push(server);
  return server;
}

async function rowsIn(schema: string, sql: string): Promise<number> {
  const client = new pg.Client({ connectionString: urlWithSchema(schema) });
  await client.connect();
  try {
    return Number((await client.query<{ n: string }>(sql)).rows[0]!.n);
  } finally {
    await client.end();
  }
}

/** The server's one start, synchronously, with what it printed. */
function startOnce(env: Record<string, string>) {
  const keep = Object.fromEntries(Object.entries(process.env).filter(([k]) => ['PATH', 'HOME', 'NODE_OPTIONS'].includes(k)));
  return spawnSync(process.execPath, ['--import', 'tsx', 'sync-server/src/main.ts'], {
    cwd: root,
    env: { ...keep, NODE_ENV: 'test', PORT: '0', DATA_DIR: tempDataDir(), JWT_SECRET: 'test-secret-0123456789abcdef', ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
}

describe('one server on PostgreSQL', () => {
  it('two members chat live, the messages are rows in PostgreSQL, and they survive kill -9', async () => {
    const server = await start();
    const id = await createConversation(server, 'alice', ['bob']);
    const [alice, bob] = await Promise.all([connectUser(server, 'alice'), connectUser(server, 'bob')]);
    const a = alice.open(conversationDocName(id));
    const b = bob.open(conversationDocName(id));
    await Promise.all([a.synced, b.synced]);
    for (let i = 0; i < 20; i++) appendMessage(a.doc, { id: `m${i}`, author: 'alice', text: `hello ${i}` });
    await a.acknowledged(20_000);
    await waitFor(() => readMessages(b.doc).length === 20, 20_000, 'bob sees the messages live');
    alice.destroy();
    bob.destroy();
    // In PostgreSQL, not in a SQLite file beside it.
    expect(await rowsIn(server.schema!, 'SELECT count(*) AS n FROM doc_updates')).toBeGreaterThan(0);
    await server.kill();
    await server.restart();
    const reader = await connectUser(server, 'bob');
    const again = reader.open(conversationDocName(id));
    await again.synced;
    expect(readMessages(again.doc).map((m) => m.id)).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`));
    // The message index and its search run on PostgreSQL too.
    const token = await server.token('bob');
    const history = await server.api(`/api/conversations/${id}/messages?limit=5`, { token });
    expect(history.status).toBe(200);
    expect(history.body.messages.map((m: { id: string }) => m.id)).toEqual(['m19', 'm18', 'm17', 'm16', 'm15']);
    const search = await server.api(`/api/search?q=hel`, { token });
    expect(search.status).toBe(200);
    expect(search.body.results).toHaveLength(20);
    reader.destroy();
  }, 150_000); // three server starts and a live exchange: generous for a loaded two-core machine

  it('refuses, with one line, a database migrated by a newer server', async () => {
    const schema = await createSchema('parley_e2e');
    schemas.add(schema);
    const url = urlWithSchema(schema);
    expect(startOnce({ DATABASE_URL: url, PORT: 'eighty' }).status).toBe(1); // (config first: nothing touched yet)
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)');
    await client.query("INSERT INTO schema_migrations VALUES (9999, 'from the future', 0)");
    await client.end();
    const refused = startOnce({ DATABASE_URL: url });
    expect(refused.status).toBe(1);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).toContain('version 9999');
  });

  it('refuses, with one line, a PostgreSQL it cannot reach', async () => {
    const unreachable = startOnce({ DATABASE_URL: 'postgresql://postgres@127.0.0.1:1/none' });
    expect(unreachable.status).toBe(1);
    expect(unreachable.stderr.trim().split('\n')).toHaveLength(1);
    expect(unreachable.stderr).toContain('cannot open the PostgreSQL database (DATABASE_URL)');
  });
});
