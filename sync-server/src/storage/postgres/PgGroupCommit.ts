import type pg from 'pg';
import { DocumentReplacedError, asStorageFailure } from '../StorageWriteError';

/** A write that runs its own queries inside the batch's transaction. */
type RunWrite = (client: pg.PoolClient) => Promise<unknown>;

/**
 * A write given as SQL text (see pgLiteral), built when its batch runs:
 * consecutive ones are sent together with the batch's BEGIN and COMMIT, so a
 * batch of appends costs one round trip. `result` is what the write resolves
 * with once committed.
 */
export interface SqlWrite {
  sql(): { text: string; result?: unknown };
}

type Write = RunWrite | SqlWrite;

interface Queued {
  write: Write;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  onFailure: (() => void) | undefined;
  /** The document the write belongs to, when it is fenced by its generation (see replacedDoc). */
  doc: string | undefined;
}

/** SQLSTATE of parley_fence (PostgreSQL migration 13): the document named in DETAIL was replaced meanwhile. */
const REPLACED = 'PRL01';

/** The document whose fence failed, when that is why the transaction failed. */
function replacedDoc(error: unknown): string | null {
  if (typeof error !== 'object' || error === null) return null;
  const { code, detail } = error as { code?: unknown; detail?: unknown };
  return code === REPLACED && typeof detail === 'string' ? detail : null;
}

/**
 * Group commit on PostgreSQL, with the SQLite one's promises (see
 * sqlite/GroupCommit.ts): writes queued in one stretch commit together in
 * one transaction, in the order they were queued, and resolve only after
 * COMMIT returned; a failed transaction fails every write in it, and their
 * `onFailure` hooks run before any later write can commit.
 *
 * One transaction is in flight at a time: writes queued meanwhile form the
 * next batch, so a busy server pays one commit (one WAL flush) per round trip
 * instead of one per write, and batches commit in order.
 */
export class PgGroupCommit {
  private queue: Queued[] = [];
  private running: Promise<void> | null = null;

  constructor(private readonly pool: pg.Pool) {}

  run<T>(write: ((client: pg.PoolClient) => Promise<T>) | SqlWrite, onFailure?: () => void, doc?: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ write, resolve: resolve as (value: unknown) => void, reject, onFailure, doc });
      if (!this.running) this.running = this.drain();
    });
  }

  /** Resolves once everything queued so far is committed (or failed). */
  async settled(): Promise<void> {
    if (!this.running && this.queue.length === 0) return;
    await this.run(async () => undefined).catch(() => undefined);
  }

  private async drain(): Promise<void> {
    // Let the stretch of JavaScript that queued the first write queue the rest of its batch.
    await Promise.resolve();
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      await this.commit(batch);
    }
    this.running = null;
  }

  private async commit(batch: Queued[]): Promise<void> {
    let client: pg.PoolClient | null = null;
    let broken: Error | undefined;
    let retry: Queued[] = [];
    const results: unknown[] = [];
    try {
      client = await this.pool.connect();
      let texts = ['BEGIN'];
      for (const { write } of batch) {
        if (typeof write !== 'function') {
          const { text, result } = write.sql();
          if (text) texts.push(text);
          results.push(result);
          continue;
        }
        if (texts.length) await client.query(texts.join(';\n'));
        texts = [];
        results.push(await write(client));
      }
      // A failing statement ends the query there: COMMIT is never reached, and the catch rolls back.
      texts.push('COMMIT');
      await client.query(texts.join(';\n'));
    } catch (caught) {
      if (client) {
        await client.query('ROLLBACK').catch((error: unknown) => {
          broken = error instanceof Error ? error : new Error(String(error));
        });
      }
      const replaced = replacedDoc(caught);
      if (replaced !== null && batch.some((queued) => queued.doc === replaced)) {
        retry = batch.filter((queued) => queued.doc !== replaced);
        const refused = batch.filter((queued) => queued.doc === replaced);
        for (const queued of refused) queued.onFailure?.();
        for (const queued of refused) queued.reject(new DocumentReplacedError(replaced));
        return;
      }
      const error = asStorageFailure(caught) ?? caught;
      for (const queued of batch) queued.onFailure?.();
      for (const queued of batch) queued.reject(error);
      return;
    } finally {
      client?.release(broken);
      // A write of a document another server replaced meanwhile fails alone (issue 15):
      // the rest of its batch, rolled back with it and acknowledged to no one, goes again.
      if (retry.length > 0) await this.commit(retry);
    }
    batch.forEach((queued, i) => queued.resolve(results[i]));
  }
}
