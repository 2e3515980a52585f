import type { Database, Statement } from 'better-sqlite3';
import { DEFAULTS } from '@parley/schema';
import type { CompactionBounds, DocumentStore, IndexChange, MergeParts, NewJob, RenewalBuild, StoredDocument } from '../Storage';
import type { SqliteMessageIndex } from './SqliteMessageIndex';
import type { SqliteJobStore } from './SqliteJobStore';
import type { GroupCommit } from './GroupCommit';
import { StorageWriteError } from '../StorageWriteError';

/** Returned instead of inserting an update to a fenced document. */
const FENCED = Symbol('fenced');

interface UpdateRow {
  seq: number;
  data: Buffer;
}

const toBuffer = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

export class SqliteDocumentStore implements DocumentStore {
  /** Documents with a failed append since they were last loaded (see DocumentStore.append). */
  private readonly fenced = new Set<string>();
  private readonly insert: Statement<[string, Buffer, number]>;
  private readonly snapshot: Statement<[string], { data: Buffer; last_seq: number }>;
  private readonly tail: Statement<[string, number], UpdateRow>;
  private readonly upsertSnapshot: Statement<[string, Buffer, number, number]>;
  private readonly deleteUpTo: Statement<[string, number]>;
  private readonly insertAt: Statement<[number, string, Buffer, number]>;
  private readonly candidates: Statement<[CompactionBounds], { doc: string }>;

  constructor(
    private readonly db: Database,
    private readonly commits: GroupCommit,
    private readonly index: SqliteMessageIndex,
    private readonly jobs: SqliteJobStore,
  ) {
    this.insert = db.prepare('INSERT INTO doc_updates (doc, data, created_at) VALUES (?, ?, ?)');
    this.snapshot = db.prepare('SELECT data, last_seq FROM doc_snapshots WHERE doc = ?');
    this.tail = db.prepare('SELECT seq, data FROM doc_updates WHERE doc = ? AND seq > ? ORDER BY seq');
    this.upsertSnapshot = db.prepare(
      'INSERT INTO doc_snapshots (doc, data, last_seq, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (doc) DO UPDATE SET data = excluded.data, last_seq = excluded.last_seq, updated_at = excluded.updated_at',
    );
    this.insertAt = db.prepare('INSERT INTO doc_updates (seq, doc, data, created_at) VALUES (?, ?, ?, ?)');
    this.deleteUpTo = db.prepare('DELETE FROM doc_updates WHERE doc = ? AND seq <= ?');
    this.candidates = db.prepare(
      `SELECT u.doc FROM doc_updates u LEFT JOIN doc_snapshots s ON s.doc = u.doc GROUP BY u.doc
       HAVING count(*) >= :maxUpdates
           OR sum(length(u.data)) >= max(:maxBytes, coalesce(length(s.data), 0) * :majorRatio)
           OR min(u.created_at) <= :olderThan`,
    );
  }

  async append(doc: string, update: Uint8Array, index?: IndexChange, jobs?: NewJob[]): Promise<void> {
    const data = toBuffer(update);
    const createdAt = Date.now();
    const fence = () => this.fenced.add(doc);
    // Checked when the group commits, not when queued: a write queued before an earlier
    // commit of this document failed may build on what that commit lost.
    const result = await this.commits.run(() => {
      if (this.fenced.has(doc)) return FENCED;
      this.insert.run(doc, data, createdAt);
      if (index) this.index.writeNow(index);
      if (jobs?.length) this.jobs.enqueueNow(jobs, createdAt);
      return undefined;
    }, fence);
    if (result === FENCED) throw new StorageWriteError(false, `an earlier update of ${doc} was not stored; reload it first`);
  }

  async renew(doc: string, build: RenewalBuild, serverOwner: string): Promise<void> {
    // Through the group commit: ordered after every append queued before it, in one transaction.
    const result = await this.commits.run(() => {
      if (this.fenced.has(doc)) return FENCED;
      // One server: what is stored is in its memory already.
      const { update: fresh, serverClientId } = build(null);
      const data = toBuffer(fresh);
      const lastSeq = (this.db.prepare('SELECT coalesce(max(seq), 0) FROM doc_updates').pluck().get() as number) ?? 0;
      this.upsertSnapshot.run(doc, data, lastSeq, Date.now());
      this.deleteUpTo.run(doc, lastSeq);
      this.db.prepare('INSERT OR IGNORE INTO retired_clients (doc, client_id) SELECT doc, client_id FROM client_bindings WHERE doc = ?').run(doc);
      this.db.prepare('DELETE FROM client_bindings WHERE doc = ?').run(doc);
      this.db.prepare('INSERT INTO client_bindings (doc, client_id, user_id) VALUES (?, ?, ?)').run(doc, serverClientId, serverOwner);
      return undefined;
    }, () => this.fenced.add(doc));
    if (result === FENCED) throw new StorageWriteError(false, `an earlier update of ${doc} was not stored; reload it first`);
  }

  settled(): Promise<void> {
    return this.commits.settled();
  }

  async load(doc: string): Promise<StoredDocument> {
    this.fenced.delete(doc);
    return this.db.transaction(() => {
      const snapshot = this.snapshot.get(doc);
      const updates = this.tail.all(doc, snapshot?.last_seq ?? 0).map((row) => new Uint8Array(row.data));
      return { snapshot: snapshot ? new Uint8Array(snapshot.data) : null, updates };
    })();
  }

  async compactionCandidates(bounds: CompactionBounds): Promise<string[]> {
    return this.candidates.all(bounds).map((row) => row.doc);
  }

  async compact(doc: string, merge: MergeParts, majorRatio = DEFAULTS.compactionMajorRatio): Promise<{ folded: number }> {
    // One synchronous transaction: nothing else in this process runs meanwhile,
    // and rows appended by others later have higher seq and stay.
    return this.db.transaction(() => {
      const snapshot = this.snapshot.get(doc);
      const rows = this.tail.all(doc, snapshot?.last_seq ?? 0);
      if (rows.length === 0) return { folded: 0 };
      const lastSeq = rows[rows.length - 1]!.seq;
      const parts = rows.map((row) => new Uint8Array(row.data));
      const tailBytes = rows.reduce((sum, row) => sum + row.data.byteLength, 0);
      if (snapshot && rows.length > 1 && tailBytes < snapshot.data.byteLength * majorRatio) {
        // Minor: squash the tail into one row in its place; the snapshot is not rewritten.
        const squashed = merge(parts, { complete: false });
        this.deleteUpTo.run(doc, lastSeq);
        this.insertAt.run(lastSeq, doc, toBuffer(squashed), Date.now());
        return { folded: rows.length };
      }
      if (snapshot) parts.unshift(new Uint8Array(snapshot.data));
      const merged = merge(parts, { complete: true });
      this.upsertSnapshot.run(doc, toBuffer(merged), lastSeq, Date.now());
      this.deleteUpTo.run(doc, lastSeq);
      return { folded: rows.length };
    }).immediate();
  }
}
