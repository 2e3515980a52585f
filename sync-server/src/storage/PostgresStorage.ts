import type pg from 'pg';
import type { Storage } from './Storage';
import { createPool, type PoolOptions } from './postgres/PgPool';
import { migratePostgres } from './postgres/PgMigrator';
import { PgGroupCommit } from './postgres/PgGroupCommit';
import { PgDocumentStore } from './postgres/PgDocumentStore';
import { PgConversationStore } from './postgres/PgConversationStore';
import { PgUserStore } from './postgres/PgUserStore';
import { PgClientBindingStore } from './postgres/PgClientBindingStore';
import { PgEventStore } from './postgres/PgEventStore';
import { PgConversationWorkStore } from './postgres/PgConversationWorkStore';
import { PgPushSubscriptionStore } from './postgres/PgPushSubscriptionStore';
import { PgMessageIndex } from './postgres/PgMessageIndex';
import { PgJobStore } from './postgres/PgJobStore';
import { PgSweepStore } from './postgres/PgSweepStore';

/**
 * The shared store (`DATABASE_URL`): the same Storage as SqliteStorage, on
 * PostgreSQL through a connection pool, so several servers can share it.
 * Acknowledged means COMMIT returned: PostgreSQL's default
 * `synchronous_commit = on` has flushed the WAL by then.
 */
export class PostgresStorage implements Storage {
  readonly documents: PgDocumentStore;
  readonly conversations: PgConversationStore;
  readonly users: PgUserStore;
  readonly clients: PgClientBindingStore;
  readonly events: PgEventStore;
  readonly work: PgConversationWorkStore;
  readonly push: PgPushSubscriptionStore;
  readonly messages: PgMessageIndex;
  readonly jobs: PgJobStore;
  readonly sweeps: PgSweepStore;
  private readonly commits: PgGroupCommit;
  private closed = false;

  private constructor(readonly pool: pg.Pool) {
    this.commits = new PgGroupCommit(pool);
    this.messages = new PgMessageIndex(pool);
    this.jobs = new PgJobStore(pool, this.commits);
    this.sweeps = new PgSweepStore(pool);
    this.documents = new PgDocumentStore(pool, this.commits, this.messages, this.jobs);
    this.conversations = new PgConversationStore(pool);
    this.users = new PgUserStore(pool);
    this.clients = new PgClientBindingStore(pool);
    this.events = new PgEventStore(pool, this.jobs);
    this.work = new PgConversationWorkStore(pool, this.commits);
    this.push = new PgPushSubscriptionStore(pool);
  }

  /**
   * Connects and migrates (see PgMigrator); rejects with a SchemaTooNewError
   * when the database is newer than this server, and with the driver's error
   * when PostgreSQL cannot be reached.
   */
  static async open(options: PoolOptions): Promise<PostgresStorage> {
    const pool = createPool(options);
    try {
      await migratePostgres(pool);
    } catch (error) {
      await pool.end();
      throw error;
    }
    return new PostgresStorage(pool);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.commits.settled();
    await this.pool.end();
  }
}
