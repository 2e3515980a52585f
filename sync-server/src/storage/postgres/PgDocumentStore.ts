import type pg from 'pg';
import { DEFAULTS } from '@parley/schema';
import type { CompactionBounds, DocumentStore, IndexChange, MergeParts, NewJob, RenewalBuild, StoredDocument } from '../Storage';
import { StorageWriteError } from '../StorageWriteError';
import type { PgGroupCommit } from './PgGroupCommit';
import type { PgMessageIndex } from './PgMessageIndex';
import type { PgJobStore } from './PgJobStore';
import { transaction } from './PgPool';
import { lit, row } from './pgLiteral';
import { announceRenewal, announceUpdate } from './pgDocFeed';

/** Returned instead of inserting an update to a fenced document. */
const FENCED = Symbol('fenced');

/**
 * Advisory lock space of a document (the two-key form; the key is a hash of
 * its name, so two documents may share a lock: that only serialises them).
 * An append holds it shared until its commit, a compaction exclusively: so a
 * compaction never reads a log with a hole (a lower seq still uncommitted
 * while a higher one is visible) and folds past it.
 */
const DOCUMENT_LOCK = 1;

const toBuffer = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
const toBytes = (data: Buffer): Uint8Array => new Uint8Array(data);

interface PartRow {
  snapshot: boolean;
  seq: number;
  data: Buffer;
  generation: number;
}

export class PgDocumentStore implements DocumentStore {
  /** Documents with a failed append since they were last loaded (see DocumentStore.append). */
  private readonly fenced = new Set<string>();
  /**
   * Per document this server holds, the generation it loaded (issue 15):
   * a renewal by any server bumps the stored one, and an append of an older
   * one fails (parley_fence) instead of landing in the new epoch's log.
   */
  private readonly generations = new Map<string, number>();

  constructor(
    private readonly pool: pg.Pool,
    private readonly commits: PgGroupCommit,
    private readonly index: PgMessageIndex,
    private readonly jobs: PgJobStore,
    /** This server's id in the announcements of its writes (see pgDocFeed). */
    readonly node: string,
  ) {}

  generationOf(doc: string): number {
    return this.generations.get(doc) ?? 0;
  }

  forget(doc: string): void {
    this.generations.delete(doc);
  }

  async append(doc: string, update: Uint8Array, index?: IndexChange, jobs?: NewJob[]): Promise<void> {
    const createdAt = Date.now();
    // Taken now: the update was made against the document as loaded then.
    const generation = this.generationOf(doc);
    await this.fencedWrite(doc, () => [
      `SELECT pg_advisory_xact_lock_shared(${DOCUMENT_LOCK}, hashtext(${lit(doc)}))`,
      // After the lock: a renewal (exclusive) has committed or not begun, so this sees its generation.
      `SELECT parley_fence(${lit(doc)}, ${lit(generation)})`,
      announceUpdate(`INSERT INTO doc_updates (doc, data, created_at) VALUES ${row(doc, update, createdAt)} RETURNING seq`, { doc, node: this.node, generation, update }),
      ...(index ? this.index.statements(index) : []),
      ...(jobs?.length ? this.jobs.enqueueStatements(jobs, createdAt) : []),
    ]);
  }

  /**
   * A write of the document through the group commit: refused when an earlier
   * write of it failed. Checked when the batch runs, not when queued: a write
   * queued before an earlier commit of this document failed may build on what
   * that commit lost. A failure fences the document until it is loaded again.
   */
  private async fencedWrite(doc: string, statements: () => string[]): Promise<void> {
    const result = await this.commits.run(
      { sql: () => (this.fenced.has(doc) ? { text: '', result: FENCED } : { text: statements().join(';\n') }) },
      () => this.fenced.add(doc),
      doc,
    );
    if (result === FENCED) throw this.fencedError(doc);
  }

  private fencedError(doc: string): StorageWriteError {
    return new StorageWriteError(false, `an earlier update of ${doc} was not stored; reload it first`);
  }

  async renew(doc: string, build: RenewalBuild, serverOwner: string): Promise<void> {
    const generation = this.generationOf(doc);
    // Through the group commit, like an append: ordered after every append queued before it,
    // refused when one of them failed, and all of it in one transaction.
    const result = await this.commits.run(
      async (client) => {
        if (this.fenced.has(doc)) return FENCED;
        // Exclusive, as a compaction's: no append of this document (any server's) is half-committed
        // while the log is dropped; appends that wait for it land after, and fail the fence.
        await client.query(`SELECT pg_advisory_xact_lock(${DOCUMENT_LOCK}, hashtext($1))`, [doc]);
        await client.query('SELECT parley_fence($1, $2)', [doc, generation]);
        // What other servers appended and this one has not applied yet is in the new epoch too.
        const rows = await this.parts(client, doc);
        const snapshot = rows[0]?.snapshot ? rows.shift()! : null;
        const fresh = build({ snapshot: snapshot ? toBytes(snapshot.data) : null, updates: rows.map((r) => toBytes(r.data)) });
        const d = lit(doc);
        await client.query(
          [
            `INSERT INTO doc_snapshots (doc, data, last_seq, updated_at, generation)
             SELECT ${d}, ${lit(fresh.update)}, greatest(coalesce((SELECT max(seq) FROM doc_updates WHERE doc = ${d}), 0),
                                              coalesce((SELECT last_seq FROM doc_snapshots WHERE doc = ${d}), 0)), ${lit(Date.now())}, ${lit(generation + 1)}
             ON CONFLICT (doc) DO UPDATE SET data = excluded.data, last_seq = excluded.last_seq, updated_at = excluded.updated_at, generation = excluded.generation`,
            `DELETE FROM doc_updates WHERE doc = ${d}`,
            `INSERT INTO retired_clients (doc, client_id) SELECT doc, client_id FROM client_bindings WHERE doc = ${d} ON CONFLICT DO NOTHING`,
            `DELETE FROM client_bindings WHERE doc = ${d}`,
            `INSERT INTO client_bindings (doc, client_id, user_id) VALUES ${row(doc, fresh.serverClientId, serverOwner)}`,
            announceRenewal({ doc, node: this.node, generation: generation + 1 }),
          ].join(';\n'),
        );
        return undefined;
      },
      () => this.fenced.add(doc),
      doc,
    );
    if (result === FENCED) throw this.fencedError(doc);
    this.generations.set(doc, generation + 1);
  }

  settled(): Promise<void> {
    return this.commits.settled();
  }

  async load(doc: string): Promise<StoredDocument> {
    this.fenced.delete(doc);
    const { generation, ...stored } = await this.read(doc);
    this.generations.set(doc, generation);
    return stored;
  }

  async read(doc: string): Promise<StoredDocument & { generation: number }> {
    const rows = await this.parts(this.pool, doc);
    const snapshot = rows[0]?.snapshot ? rows.shift()! : null;
    return { snapshot: snapshot ? toBytes(snapshot.data) : null, updates: rows.map((row) => toBytes(row.data)), generation: snapshot?.generation ?? 0 };
  }

  async fetchUpdate(doc: string, seq: number): Promise<Uint8Array | null> {
    const result = await this.pool.query<{ data: Buffer }>('SELECT data FROM doc_updates WHERE doc = $1 AND seq = $2', [doc, seq]);
    return result.rows[0] ? toBytes(result.rows[0].data) : null;
  }

  /** Snapshot (first, when there is one) and the log after it, read in one statement: one consistent view. */
  private async parts(db: pg.Pool | pg.PoolClient, doc: string): Promise<PartRow[]> {
    const result = await db.query<PartRow>(
      `SELECT true AS snapshot, last_seq AS seq, data, generation FROM doc_snapshots WHERE doc = $1
       UNION ALL
       SELECT false, seq, data, 0 FROM doc_updates
       WHERE doc = $1 AND seq > coalesce((SELECT last_seq FROM doc_snapshots WHERE doc = $1), 0)
       ORDER BY snapshot DESC, seq`,
      [doc],
    );
    return result.rows;
  }

  async compactionCandidates(bounds: CompactionBounds): Promise<string[]> {
    const result = await this.pool.query<{ doc: string }>(
      `SELECT u.doc FROM doc_updates u LEFT JOIN doc_snapshots s ON s.doc = u.doc GROUP BY u.doc, s.data
       HAVING count(*) >= $1
           OR sum(length(u.data)) >= greatest($2::float8, coalesce(length(s.data), 0) * $3::float8)
           OR min(u.created_at) <= $4
       ORDER BY u.doc`,
      [bounds.maxUpdates, bounds.maxBytes, bounds.majorRatio, bounds.olderThan],
    );
    return result.rows.map((row) => row.doc);
  }

  async compact(doc: string, merge: MergeParts, majorRatio: number = DEFAULTS.compactionMajorRatio): Promise<{ folded: number }> {
    return transaction(this.pool, async (client) => {
      await client.query(`SELECT pg_advisory_xact_lock(${DOCUMENT_LOCK}, hashtext($1))`, [doc]);
      const rows = await this.parts(client, doc);
      const snapshot = rows[0]?.snapshot ? rows.shift()! : null;
      if (rows.length === 0) return { folded: 0 };
      const lastSeq = rows[rows.length - 1]!.seq;
      const parts = rows.map((row) => toBytes(row.data));
      const tailBytes = rows.reduce((sum, row) => sum + row.data.byteLength, 0);
      if (snapshot && rows.length > 1 && tailBytes < snapshot.data.byteLength * majorRatio) {
        // Minor: squash the tail into one row in its place; the snapshot is not rewritten.
        const squashed = merge(parts, { complete: false });
        await client.query('DELETE FROM doc_updates WHERE doc = $1 AND seq <= $2', [doc, lastSeq]);
        await client.query('INSERT INTO doc_updates (seq, doc, data, created_at) VALUES ($1, $2, $3, $4)', [lastSeq, doc, toBuffer(squashed), Date.now()]);
        return { folded: rows.length };
      }
      if (snapshot) parts.unshift(toBytes(snapshot.data));
      const merged = merge(parts, { complete: true });
      await client.query(
        `INSERT INTO doc_snapshots (doc, data, last_seq, updated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (doc) DO UPDATE SET data = excluded.data, last_seq = excluded.last_seq, updated_at = excluded.updated_at`,
        [doc, toBuffer(merged), lastSeq, Date.now()],
      );
      await client.query('DELETE FROM doc_updates WHERE doc = $1 AND seq <= $2', [doc, lastSeq]);
      return { folded: rows.length };
    });
  }
}
