import type { Database } from 'better-sqlite3';
import { asStorageFailure } from '../StorageWriteError';

interface Queued {
  write: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  onFailure: (() => void) | undefined;
}

/**
 * Group commit: writes queued in one stretch of JavaScript (the synchronous
 * code and every promise callback it sets off, however long the chain)
 * commit together in one SQLite transaction, right after it. A commit is
 * most of what an append costs, so a burst (the notifier writing fifty
 * inboxes at once) pays for one instead of one each.
 *
 * The flush is a process.nextTick: Node runs it once the microtask queue is
 * empty, so writes that come a few awaits later than the first (an inbox
 * whose reads took one more hop than its neighbour's) still share its
 * commit; a microtask ran after the first write's own chain only, and a
 * recompute of two members' inboxes paid two commits. Not setImmediate:
 * Hocuspocus handles a connection's messages one after another, each awaiting
 * its append, so waiting for the next turn of the event loop would cap every
 * connection at one message per turn.
 *
 * Writes commit in the order they were queued, so once a write's promise
 * resolves, everything queued before it is durable too. A failed commit fails
 * every write in it: none of them is acknowledged. A disk that is full or
 * failing rejects them with a StorageWriteError; `onFailure` hooks run
 * synchronously, before any later write can commit (see SqliteDocumentStore).
 */
export class GroupCommit {
  private queue: Queued[] = [];
  private scheduled = false;

  constructor(private readonly db: Database) {}

  /**
   * Runs `write` inside the next group transaction; resolves once that is
   * committed. `onFailure` runs synchronously when the transaction fails.
   */
  run<T>(write: () => T, onFailure?: () => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ write, resolve: resolve as (value: unknown) => void, reject, onFailure });
      if (!this.scheduled) {
        this.scheduled = true;
        process.nextTick(() => this.flush());
      }
    });
  }

  /** Resolves once everything queued so far is committed. */
  settled(): Promise<void> {
    return this.queue.length ? this.run(() => undefined) : Promise.resolve();
  }

  /** Commits what is queued now (also called before the database closes). */
  flush(): void {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    let results: unknown[];
    try {
      results = this.db.transaction(() => batch.map((queued) => queued.write()))();
    } catch (caught) {
      const error = asStorageFailure(caught) ?? caught;
      for (const queued of batch) queued.onFailure?.();
      for (const queued of batch) queued.reject(error);
      return;
    }
    batch.forEach((queued, i) => queued.resolve(results[i]));
  }
}
