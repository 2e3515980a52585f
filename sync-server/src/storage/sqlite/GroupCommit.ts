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
 * code and the promise callbacks queued during it) commit together in one
 * SQLite transaction, from a microtask right after. A commit is most of what
 * an append costs, so a burst (the notifier writing fifty inboxes at once)
 * pays for one instead of one each. A microtask, not setImmediate: Hocuspocus
 * handles a connection's messages one after another, each awaiting its
 * append, so waiting for the next turn of the event loop would cap every
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
        queueMicrotask(() => this.flush());
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
