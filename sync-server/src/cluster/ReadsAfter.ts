const ignore = (): void => {};

/**
 * Coalesces reads of one key (issue 15): a reconnect storm sends one sync
 * request per client and document, and each needs the document caught up
 * from the store, which was one read of PostgreSQL each.
 *
 * The rule that keeps it correct: a caller needs a read that *began after
 * its call*, since it must see everything committed before it asked. So it
 * may join a read that is queued (it begins later), never the one in flight
 * (it may have begun before the commit the caller must see). At most one
 * read is in flight and one queued per key, however many callers.
 */
export class ReadsAfter<K extends object, V> {
  private readonly inFlight = new WeakMap<K, Promise<V>>();
  private readonly queued = new WeakMap<K, Promise<V>>();

  constructor(private readonly read: (key: K) => Promise<V>) {}

  /** The result of a read of `key` that begins no earlier than this call. */
  after(key: K): Promise<V> {
    const queued = this.queued.get(key);
    if (queued) return queued;
    const running = this.inFlight.get(key);
    if (!running) return this.begin(key);
    const next = running.then(ignore, ignore).then(() => {
      this.queued.delete(key);
      return this.begin(key);
    });
    this.queued.set(key, next);
    return next;
  }

  private begin(key: K): Promise<V> {
    const run = this.read(key);
    this.inFlight.set(key, run);
    const settled = () => {
      if (this.inFlight.get(key) === run) this.inFlight.delete(key);
    };
    run.then(settled, settled);
    return run;
  }
}
