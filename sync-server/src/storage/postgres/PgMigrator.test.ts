import { afterAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { createPool } from './PgPool';
import { migratePostgres, SchemaTooNewError } from './PgMigrator';
import { pgMigrations, type PgMigration } from './pgMigrations';
import { createSchema, dropSchemas, TEST_DATABASE_URL } from './testDatabase';

const schemas = new Set<string>();
const pools: pg.Pool[] = [];
const poolOn = (schema: string) => {
  const pool = createPool({ connectionString: TEST_DATABASE_URL, schema, max: 2 });
  pools.push(pool);
  return pool;
};
const freshSchema = async () => {
  const schema = await createSchema('parley_migrate');
  schemas.add(schema);
  return schema;
};
afterAll(async () => {
  await Promise.all(pools.map((p) => p.end()));
  await dropSchemas(schemas);
});

/** The number after the last real migration, for test migrations that come later. */
const LATER = Math.max(...pgMigrations.map((m) => m.version)) + 1;

/** A later migration that fails if it runs twice (its table exists already). */
const next: PgMigration = { version: LATER, name: 'test: a later table', sql: 'CREATE TABLE later_table (id INTEGER PRIMARY KEY); INSERT INTO later_table VALUES (1);' };

describe('PostgreSQL migrations', () => {
  it('several servers starting at once on an empty schema migrate it once', async () => {
    const schema = await freshSchema();
    const counts = await Promise.all(Array.from({ length: 6 }, () => migratePostgres(poolOn(schema))));
    expect(counts.sort()).toEqual([0, 0, 0, 0, 0, pgMigrations.length]);
    const { rows } = await poolOn(schema).query<{ version: number; n: number }>('SELECT version, count(*)::int AS n FROM schema_migrations GROUP BY version ORDER BY version');
    expect(rows).toEqual(pgMigrations.map((m) => ({ version: m.version, n: 1 })));
  });

  it('several servers starting at once on an older schema bring it up once', async () => {
    const schema = await freshSchema();
    await migratePostgres(poolOn(schema));
    const counts = await Promise.all(Array.from({ length: 6 }, () => migratePostgres(poolOn(schema), [...pgMigrations, next])));
    expect(counts.sort()).toEqual([0, 0, 0, 0, 0, 1]);
    expect((await poolOn(schema).query('SELECT id FROM later_table')).rows).toEqual([{ id: 1 }]);
  });

  it('a server older than the schema refuses it, with one line naming both versions, and changes nothing', async () => {
    const schema = await freshSchema();
    await migratePostgres(poolOn(schema), [...pgMigrations, next]);
    const refused = migratePostgres(poolOn(schema));
    await expect(refused).rejects.toBeInstanceOf(SchemaTooNewError);
    const error = (await refused.catch((e: unknown) => e)) as Error;
    expect(error.message).not.toContain('\n');
    expect(error.message).toContain(`version ${next.version}`);
    expect(error.message).toContain(`(${pgMigrations.at(-1)!.version})`);
  });

  it('a migration that fails leaves the schema at the last whole version', async () => {
    const schema = await freshSchema();
    const broken: PgMigration = { version: LATER, name: 'test: broken', sql: 'CREATE TABLE half_done (id INTEGER); SELECT no_such_function();' };
    await expect(migratePostgres(poolOn(schema), [...pgMigrations, broken])).rejects.toThrow(/no_such_function/);
    const tables = await poolOn(schema).query("SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'half_done'", [schema]);
    expect(tables.rows).toEqual([]);
    expect(await migratePostgres(poolOn(schema), [...pgMigrations, next])).toBe(1);
  });

  it('migration 16 builds the running unread tallies in place from the stored messages', async () => {
    const schema = await freshSchema();
    const pool = poolOn(schema);
    await migratePostgres(pool, pgMigrations.filter((m) => m.version < 16));
    const rows: Array<[string, string, string, string]> = [
      ['c', 'c1', 'ann', 'text'], ['c', 'c2', 'bob', 'text'], ['c', 'c3', 'ann', 'system'], ['c', 'c4', 'bob', 'text'], ['c', 'c5', 'ann', 'text'], ['d', 'd1', 'bob', 'text'],
    ];
    for (const [i, [conversation, id, author, kind]] of rows.entries()) {
      await pool.query(
        `INSERT INTO messages (conversation_id, seq, id, author, kind, text, created_at, reactions, search) VALUES ($1, $2, $3, $4, $5, 'x', 0, '{}', to_tsvector('simple', 'x'))`,
        [conversation, i + 1, id, author, kind],
      );
    }
    expect(await migratePostgres(pool)).toBe(pgMigrations.filter((m) => m.version >= 16).length);
    const { rows: tallies } = await pool.query<{ id: string; tally: number; author_tally: number }>('SELECT id, tally, author_tally FROM messages ORDER BY conversation_id, seq');
    expect(tallies.map((r) => [r.id, r.tally, r.author_tally])).toEqual([['c1', 1, 1], ['c2', 2, 1], ['c3', 2, 1], ['c4', 3, 2], ['c5', 4, 2], ['d1', 1, 1]]);
  });
});
