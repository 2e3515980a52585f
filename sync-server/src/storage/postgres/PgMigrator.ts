import type pg from 'pg';
import { pgMigrations, type PgMigration } from './pgMigrations';

/** The database was migrated by a newer server: this one must not touch it. */
export class SchemaTooNewError extends Error {
  constructor(
    readonly found: number,
    readonly known: number,
  ) {
    super(`the PostgreSQL schema is at version ${found}, newer than this server knows (${known}); run a newer server or restore a matching backup`);
    this.name = 'SchemaTooNewError';
  }
}

/**
 * Brings the schema up to date, safely when several servers start at once:
 * each holds a session advisory lock (one per schema) while it looks and
 * migrates, so one of them migrates and the others then find nothing to do.
 * Each migration commits with its version row, so a crash mid-way leaves the
 * schema at the last whole version. Returns how many migrations ran.
 */
export async function migratePostgres(pool: pg.Pool, migrations: readonly PgMigration[] = pgMigrations): Promise<number> {
  const known = Math.max(0, ...migrations.map((m) => m.version));
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query("SELECT pg_advisory_lock(hashtextextended('parley:migrate:' || current_schema(), 0))");
    try {
      await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)');
      const rows = (await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows;
      const applied = new Set(rows.map((r) => r.version));
      const found = Math.max(0, ...applied);
      if (found > known) throw new SchemaTooNewError(found, known);
      let count = 0;
      // In version order, whatever order the entries were added in.
      for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
        if (applied.has(migration.version)) continue;
        await client.query('BEGIN');
        try {
          await client.query(migration.sql);
          await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [migration.version, migration.name, Date.now()]);
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK');
          throw error;
        }
        count++;
      }
      return count;
    } finally {
      await client.query("SELECT pg_advisory_unlock(hashtextextended('parley:migrate:' || current_schema(), 0))");
    }
  } catch (error) {
    if (!(error instanceof SchemaTooNewError)) broken = error instanceof Error ? error : new Error(String(error));
    throw error;
  } finally {
    // A connection whose migration failed is dropped: that also ends its lock if unlocking failed.
    client.release(broken);
  }
}
