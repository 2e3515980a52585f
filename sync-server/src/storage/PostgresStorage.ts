import type pg from 'pg';
import { randomUUID } from 'node:crypto';
import type { DocumentEvent, SharedDocuments, Storage } from './Storage';
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
import { PgBlockStore } from './postgres/PgBlockStore';
import { PgReportStore } from './postgres/PgReportStore';
import { PgAttachmentStore } from './postgres/PgAttachmentStore';
import { PgNotificationArchive } from './postgres/PgNotificationArchive';
import { PgDeliveryStore } from './postgres/PgDeliveryStore';
import { PgDocFeed } from './postgres/pgDocFeed';
import { PgBlobStore } from './postgres/PgBlobStore';
import type { FileBlobStore } from './blobs/FileBlobStore';

/** The tables that hold message text or documents and lose rows to erasure (see scrub). */
const SCRUBBED_TABLES = ['messages', 'doc_updates', 'doc_snapshots', 'notification_archive', 'attachments', 'attachment_refs', 'attachment_blobs'];

/** How long scrub waits for older snapshots before it vacuums anyway (see waitForOlderSnapshots). */
const SCRUB_WAIT_MS = 10_000;

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
  readonly blocks: PgBlockStore;
  readonly reports: PgReportStore;
  readonly notificationArchive: PgNotificationArchive;
  readonly deliveries: PgDeliveryStore;
  /** Several servers may share this store (issue 15): how they hear of each other's writes. */
  readonly shared: SharedDocuments;
  private readonly feeds = new Set<PgDocFeed>();
  private readonly commits: PgGroupCommit;
  private closed = false;

  private constructor(
    readonly pool: pg.Pool,
    readonly attachments: PgAttachmentStore,
    private readonly options: PoolOptions,
    node = 'node',
  ) {
    this.commits = new PgGroupCommit(pool);
    this.messages = new PgMessageIndex(pool, this.commits);
    this.jobs = new PgJobStore(pool, this.commits);
    this.sweeps = new PgSweepStore(pool);
    this.documents = new PgDocumentStore(pool, this.commits, this.messages, this.jobs, `${node}~${randomUUID().slice(0, 8)}`);
    const documents = this.documents;
    this.shared = {
      node: documents.node,
      generationOf: (doc) => documents.generationOf(doc),
      forget: (doc) => documents.forget(doc),
      read: (doc) => documents.read(doc),
      fetchUpdate: (doc, seq) => documents.fetchUpdate(doc, seq),
      listen: (listener) => this.listen(listener),
    };
    this.conversations = new PgConversationStore(pool);
    this.users = new PgUserStore(pool);
    this.clients = new PgClientBindingStore(pool);
    this.events = new PgEventStore(pool, this.jobs);
    this.work = new PgConversationWorkStore(pool, this.commits);
    this.push = new PgPushSubscriptionStore(pool);
    this.blocks = new PgBlockStore(pool);
    this.reports = new PgReportStore(pool);
    this.notificationArchive = new PgNotificationArchive(pool);
    this.deliveries = new PgDeliveryStore(pool);
  }

  /**
   * Connects and migrates (see PgMigrator); rejects with a SchemaTooNewError
   * when the database is newer than this server, and with the driver's error
   * when PostgreSQL cannot be reached.
   *
   * `node` is the node's name (NODE_ID): the document feed's identity is it
   * plus a random suffix of this process, so logs and metrics name the same
   * node, while two processes given one NODE_ID by mistake (or a restarted
   * node hearing its previous run's last announcements) still tell their own
   * writes from the other's.
   */
  static async open(options: PoolOptions & { node?: string }): Promise<PostgresStorage> {
    const pool = createPool(options);
    try {
      await migratePostgres(pool);
      return new PostgresStorage(pool, await PgAttachmentStore.open(pool), options, options.node);
    } catch (error) {
      await pool.end();
      throw error;
    }
  }

  /**
   * Erasure on PostgreSQL (issue 14, item 5). A deleted or rewritten row is
   * a dead tuple, readable from the table's files until VACUUM removes it;
   * this runs a plain VACUUM of the tables erasure touches (their TOAST
   * tables and indexes included), after every write queued before it.
   * Measured on PostgreSQL 15 (PostgresStorage.test.ts, raw pages through
   * pageinspect): afterwards no tuple, live or dead, of the index table, its
   * TOAST table, the document log or the snapshots holds the old text, and no
   * query reaches it.
   * What it does not promise:
   * - zeroed bytes: VACUUM frees a dead tuple's space without overwriting it
   *   (measured in e2e/erasure.test.ts: a deleted text stayed in a page's
   *   free space after VACUUM, in no tuple). Only a rewrite of the table
   *   (VACUUM FULL, CLUSTER) drops those bytes, under an exclusive lock of
   *   the table, so that is an operator's decision, not this job's;
   * - the search index (GIN over the tsvector) keeps a deleted word as a key
   *   of its dictionary, pointing at no row, until the index is rebuilt
   *   (`REINDEX INDEX CONCURRENTLY messages_search`, an operator's job: it
   *   costs the whole table, see sync-server/README);
   * - the WAL holds what was written until its segments are recycled, and WAL
   *   archives and base backups hold it as long as they are kept;
   * - VACUUM keeps the rows a transaction still open elsewhere may see.
   */
  async scrub(): Promise<void> {
    if (this.closed) return;
    await this.commits.settled();
    await this.waitForOlderSnapshots();
    await this.pool.query(`VACUUM ${SCRUBBED_TABLES.join(', ')}`);
  }

  /**
   * VACUUM keeps every row version a snapshot taken before its deletion may
   * still see ("dead but not yet removable"), and erasure runs once: a
   * compaction or claim open elsewhere at that moment (any node) would keep
   * the deleted text until some later VACUUM. So first wait, a bounded time,
   * until no other session of this database holds a snapshot or transaction
   * older than a transaction id taken now, after the erasure's writes.
   */
  private async waitForOlderSnapshots(): Promise<void> {
    const now = (await this.pool.query<{ xid: string }>('SELECT pg_current_xact_id()::text AS xid')).rows[0]!.xid;
    const deadline = Date.now() + SCRUB_WAIT_MS;
    for (;;) {
      const { rows } = await this.pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid()
           AND (age(backend_xmin) >= age($1::text::xid) OR age(backend_xid) >= age($1::text::xid))`,
        [String(BigInt(now) & 0xffffffffn)],
      );
      if (rows[0]!.n === 0 || Date.now() > deadline) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  private async listen(listener: (event: DocumentEvent) => void): Promise<() => Promise<void>> {
    const feed = new PgDocFeed(this.options, listener, () => undefined);
    await feed.start();
    this.feeds.add(feed);
    return async () => {
      this.feeds.delete(feed);
      await feed.stop();
    };
  }

  sharedBlobs(scratch: FileBlobStore): PgBlobStore {
    return new PgBlobStore(this.pool, scratch);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const feed of this.feeds) await feed.stop();
    await this.commits.settled();
    await this.attachments.close();
    await this.pool.end();
  }
}
