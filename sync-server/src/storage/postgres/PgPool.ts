import pg from 'pg';

/** What a store queries through: the pool, or one client inside a transaction. */
export type Queryable = Pick<pg.PoolClient, 'query'>;

/** A BIGINT (int8) as a JS number: every one we store (ms epochs, seqs, ids) is far below 2^53. */
const INT8 = 20;
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8 && format !== 'binary' ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

export interface PoolOptions {
  connectionString: string;
  /** Tables live in this schema (default: the server's search_path, normally `public`). */
  schema?: string;
  max?: number;
  /** Names the connections in pg_stat_activity (default `parley`). */
  applicationName?: string;
}

/** A schema name we put in SQL text ourselves: letters, digits and underscores only. */
export const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** What every connection of ours is made with, pooled or not. */
function clientConfig(options: PoolOptions): pg.ClientConfig {
  if (options.schema !== undefined && !SCHEMA_NAME.test(options.schema)) throw new Error(`not a schema name: ${options.schema}`);
  return {
    connectionString: options.connectionString,
    application_name: options.applicationName ?? 'parley',
    types,
    ...(options.schema !== undefined && { options: `-c search_path=${options.schema}` }),
  };
}

/** One connection outside the pool (the LISTEN of pgDocFeed): it stays with its session. */
export function createClient(options: PoolOptions): pg.Client {
  const client = new pg.Client(clientConfig(options));
  client.on('error', () => undefined); // its 'end' follows; the owner reconnects
  return client;
}

export function createPool(options: PoolOptions): pg.Pool {
  const pool = new pg.Pool({ ...clientConfig(options), max: options.max ?? 10 });
  // A connection PostgreSQL ends (a restart, an admin) emits 'error' on its client, idle or checked
  // out; unheard, that would crash the process. The query in flight still rejects (a
  // StorageWriteError, see asStorageFailure) and the pool drops the client.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

/** Runs `work` in one transaction on one client; rolls back and rethrows when it throws. */
export async function transaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>, begin = 'BEGIN'): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query(begin);
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch((rollbackError: unknown) => {
      // The connection itself failed: it must not go back to the pool.
      broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
    });
    throw error;
  } finally {
    client.release(broken);
  }
}

/** Rows affected by a statement (0 when the driver says nothing). */
export const changed = (result: pg.QueryResult): number => result.rowCount ?? 0;
