import type { Database } from 'better-sqlite3';

interface Queued {
  write: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: writes queued during one turn of the event loop are committed
 * together in one SQLite transaction, right after that turn. A commit is most
 * of what an append costs, so a burst (a fan-out writing a thousand inboxes,
 * fifty senders in the same millisecond) pays for one instead of one each.
 *
 * Writes commit in the order they were queued, so once a write's promise
 * resolves, everything queued before it is durable too. A failed commit fails
 * every write in it: none of them is acknowledged.
 */
export class GroupCommit {
  private queue: Queued[] = [];
  private scheduled = false;

  constructor(private readonly db: Database) {}

  /** Runs `write` inside the next group transaction; resolves once that is committed. */
  run<T>(write: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ write, resolve: resolve as (value: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
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
    } catch (error) {
      for (const queued of batch) queued.reject(error);
      return;
    }
    batch.forEach((queued, i) => queued.resolve(results[i]));
  }
}
