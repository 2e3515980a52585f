import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3, { type Database } from 'better-sqlite3';
import { migrate } from './migrations';
import type { Storage } from './Storage';
import { SqliteDocumentStore } from './sqlite/SqliteDocumentStore';
import { SqliteConversationStore } from './sqlite/SqliteConversationStore';
import { SqliteUserStore } from './sqlite/SqliteUserStore';
import { SqliteClientBindingStore } from './sqlite/SqliteClientBindingStore';
import { SqliteEventStore } from './sqlite/SqliteEventStore';
import { SqliteConversationWorkStore } from './sqlite/SqliteConversationWorkStore';
import { SqlitePushSubscriptionStore } from './sqlite/SqlitePushSubscriptionStore';
import { GroupCommit } from './sqlite/GroupCommit';
import { SqliteMessageIndex } from './sqlite/SqliteMessageIndex';
import { SqliteJobStore } from './sqlite/SqliteJobStore';
import { SqliteSweepStore } from './sqlite/SqliteSweepStore';
import { SqliteBlockStore } from './sqlite/SqliteBlockStore';
import { SqliteReportStore } from './sqlite/SqliteReportStore';

import { SqliteAttachmentStore } from './sqlite/SqliteAttachmentStore';

import { SqliteNotificationArchive } from './sqlite/SqliteNotificationArchive';

import { SqliteDeliveryStore } from './sqlite/SqliteDeliveryStore';
import { CorruptDatabaseError, checkIntegrity, isDamage } from './sqlite/integrityCheck';

/**
 * The embedded store. WAL with synchronous=NORMAL: a committed transaction
 * survives the process being killed (it is in the OS's hands), which is what
 * "acknowledged means durable" promises, power loss aside.
 */
export class SqliteStorage implements Storage {
  readonly db: Database;
  readonly documents: SqliteDocumentStore;
  readonly conversations: SqliteConversationStore;
  readonly users: SqliteUserStore;
  readonly clients: SqliteClientBindingStore;
  readonly events: SqliteEventStore;
  readonly work: SqliteConversationWorkStore;
  readonly push: SqlitePushSubscriptionStore;
  readonly messages: SqliteMessageIndex;
  readonly jobs: SqliteJobStore;
  readonly sweeps: SqliteSweepStore;
  readonly blocks: SqliteBlockStore;
  readonly reports: SqliteReportStore;

  readonly attachments: SqliteAttachmentStore;

  readonly notificationArchive: SqliteNotificationArchive;

  readonly deliveries: SqliteDeliveryStore;
  private readonly commits: GroupCommit;

  constructor(file: string) {
    this.db = SqliteStorage.open(file);
    migrate(this.db);
    this.commits = new GroupCommit(this.db);
    this.messages = new SqliteMessageIndex(this.db, this.commits);
    this.jobs = new SqliteJobStore(this.db, this.commits);
    this.sweeps = new SqliteSweepStore(this.db);
    this.notificationArchive = new SqliteNotificationArchive(this.db);
    this.documents = new SqliteDocumentStore(this.db, this.commits, this.messages, this.jobs);
    this.conversations = new SqliteConversationStore(this.db);
    this.users = new SqliteUserStore(this.db);
    this.clients = new SqliteClientBindingStore(this.db);
    this.events = new SqliteEventStore(this.db, this.jobs);
    this.work = new SqliteConversationWorkStore(this.db, this.commits);
    this.push = new SqlitePushSubscriptionStore(this.db);
    this.blocks = new SqliteBlockStore(this.db);
    this.reports = new SqliteReportStore(this.db);

    this.attachments = new SqliteAttachmentStore(this.db);

    this.deliveries = new SqliteDeliveryStore(this.db);
  }

  /** Opens and checks the file: a damaged one throws a CorruptDatabaseError naming it. */
  private static open(file: string): Database {
    let db: Database | null = null;
    try {
      db = new BetterSqlite3(file);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      db.pragma('busy_timeout = 5000');
      // Erasure (issue 14): freed cells and pages are zeroed, so deleted text is not left in the file's free space.
      db.pragma('secure_delete = ON');
      checkIntegrity(db, file);
      return db;
    } catch (error) {
      db?.close();
      if (isDamage(error)) throw new CorruptDatabaseError(file, error instanceof Error ? error.message : String(error));
      throw error;
    }
  }

  static inDataDir(dataDir: string): SqliteStorage {
    mkdirSync(dataDir, { recursive: true });
    return new SqliteStorage(join(dataDir, 'parley.sqlite'));
  }

  async scrub(): Promise<void> {
    if (!this.db.open) return;
    // Commits queued in this tick go first; then every page is in the file and the WAL is emptied.
    this.commits.flush();
    this.db.pragma('wal_checkpoint(TRUNCATE)');
  }

  async close(): Promise<void> {
    if (this.db.open) {
      this.commits.flush();
      this.db.pragma('wal_checkpoint(TRUNCATE)');
      this.db.close();
    }
  }
}
