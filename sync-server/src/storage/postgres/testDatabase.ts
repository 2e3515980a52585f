import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * For tests: the PostgreSQL they use (PARLEY_TEST_DATABASE_URL, by default
 * the machine's local server, database `test`) and throwaway schemas in it,
 * one per store a test opens, so test runs never see each other's rows.
 */
export const TEST_DATABASE_URL = process.env.PARLEY_TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';

/** Schemas of runs that died before dropping them are dropped by a later run after this long. */
const LEFT_OVER_MS = 3_600_000;

/**
 * A new, empty schema's name (created), to drop with dropSchemas. Its name
 * carries its creation time, so schemas a killed run left behind (same
 * prefix, over an hour old) are dropped here.
 */
export async function createSchema(prefix = 'parley_test'): Promise<string> {
  const name = `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA ${name}`);
    const { rows } = await client.query<{ nspname: string }>('SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)', [`${prefix}_`]);
    for (const { nspname } of rows) {
      const born = parseInt(nspname.slice(prefix.length + 1).split('_')[0] ?? '', 36);
      if (Number.isFinite(born) && Date.now() - born > LEFT_OVER_MS) await client.query(`DROP SCHEMA IF EXISTS ${nspname} CASCADE`);
    }
  } finally {
    await client.end();
  }
  return name;
}

export async function dropSchemas(names: Iterable<string>): Promise<void> {
  const list = [...names];
  if (list.length === 0) return;
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    for (const name of list) await client.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
  } finally {
    await client.end();
  }
}

/** DATABASE_URL for a server whose tables live in `schema`. */
export function urlWithSchema(schema: string): string {
  const url = new URL(TEST_DATABASE_URL);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return url.toString();
}
