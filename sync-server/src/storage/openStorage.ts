import type { Config } from '../config';
import { PostgresStorage } from './PostgresStorage';
import { SqliteStorage } from './SqliteStorage';
import type { Storage } from './Storage';

/** The store the configuration names: PostgreSQL with DATABASE_URL, else the SQLite file in the data folder. */
export async function openStorage(config: Pick<Config, 'databaseUrl' | 'dataDir'>): Promise<Storage> {
  if (config.databaseUrl) return PostgresStorage.open({ connectionString: config.databaseUrl });
  return SqliteStorage.inDataDir(config.dataDir);
}
