import type pg from 'pg';
import { asStorageFailure } from '../StorageWriteError';

type Write = (client: pg.PoolClient) => Promise<unknown>;

interface Queued {
  write: Write;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  onFailure: (() => void) | undefined;
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

  run<T>(write: (client: pg.PoolClient) => Promise<T>, onFailure?: () => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ write, resolve: resolve as (value: unknown) => void, reject, onFailure });
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
    const results: unknown[] = [];
    try {
      client = await this.pool.connect();
      await client.query('BEGIN');
      for (const queued of batch) results.push(await queued.write(client));
      await client.query('COMMIT');
    } catch (caught) {
      if (client) {
        await client.query('ROLLBACK').catch((error: unknown) => {
          broken = error instanceof Error ? error : new Error(String(error));
        });
      }
      const error = asStorageFailure(caught) ?? caught;
      for (const queued of batch) queued.onFailure?.();
      for (const queued of batch) queued.reject(error);
      return;
    } finally {
      client?.release(broken);
    }
    batch.forEach((queued, i) => queued.resolve(results[i]));
  }
}
