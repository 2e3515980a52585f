import type { Config } from '../config';
import { SqliteStorage } from './SqliteStorage';
import type { Storage } from './Storage';

/**
 * The store the configuration names: PostgreSQL with DATABASE_URL, else the
 * SQLite file in the data folder. The PostgreSQL driver is loaded only when
 * it is used, so a SQLite server starts without it.
 */
export async function openStorage(config: Pick<Config, 'databaseUrl' | 'dataDir' | 'cluster'>): Promise<Storage> {
  if (config.databaseUrl) {
    const { PostgresStorage } = await import('./PostgresStorage');
    return PostgresStorage.open({ connectionString: config.databaseUrl, node: config.cluster.nodeId });
  }
  return SqliteStorage.inDataDir(config.dataDir);
}
