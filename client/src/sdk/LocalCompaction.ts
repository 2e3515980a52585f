import { storeState, type IndexeddbPersistence } from 'y-indexeddb';

/**
 * A burst of erasing changes (a moderator deleting several messages, the
 * server requoting a whole inbox, an inbox summary replaced by each new
 * message of a busy chat) shares one compaction: at most one a second per
 * replica (about 20 ms for a 500-message document, measured in Node).
 */
const COMPACT_AFTER_MS = 1_000;
/** y-indexeddb's stores: the update log, and its key-value store, which keeps our mark. */
const UPDATES = 'updates';
const CUSTOM = 'custom';
/** In `custom` while a compaction is owed: a tab closed before it ran does it at the next load. */
const PENDING_KEY = 'parley:compaction-pending';

/**
 * Erasure on this device (issue 14, item 5: "other replicas once they
 * sync"). y-indexeddb appends every update to its `updates` store as it
 * came, so a soft-deleted message's text stays on disk in the update that
 * brought it, whatever the document shows now (y-indexeddb trims only every
 * 500 updates). After a change that overwrote such text (see erasedBy), the
 * store is replaced, a moment later, by one `Y.encodeStateAsUpdate` of the
 * document: y-indexeddb's `storeState` reads the rows other tabs added,
 * writes the state and deletes every older row, in one IndexedDB
 * transaction. The document collects garbage (`gc`, Yjs' default), so
 * deleted items are encoded without their content. O(document) per burst,
 * never per keystroke: nothing typed reaches the document before it is
 * sent, and a new message deletes nothing. A compaction owed is marked on
 * disk first and the mark goes in a transaction IndexedDB runs after the
 * compaction's (they share the `updates` store), so a tab closed or killed
 * in between compacts at the next load (`resume`); a replica destroyed
 * cleanly compacts before it closes (`flush`).
 */
export class LocalCompaction {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private closed = false;
  /** Compactions started (for tests). */
  runs = 0;

  constructor(private readonly persistence: IndexeddbPersistence) {}

  schedule(): void {
    if (this.timer || this.closed) return;
    this.write([CUSTOM], (tx) => tx.objectStore(CUSTOM).put(1, PENDING_KEY));
    this.timer = setTimeout(() => {
      this.timer = null;
      this.compact();
    }, COMPACT_AFTER_MS);
  }

  /** After the replica loaded: compacts now if a compaction was owed when the last tab went away. */
  async resume(): Promise<void> {
    if ((await this.persistence.get(PENDING_KEY).catch(() => undefined)) !== undefined) this.compact();
  }

  /** Runs an owed compaction now (the replica is about to close: IndexedDB finishes it before closing). */
  flush(): void {
    if (!this.timer) return;
    clearTimeout(this.timer);
    this.timer = null;
    this.compact();
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private compact(): void {
    if (this.closed || !this.persistence.db) return;
    this.runs++;
    try {
      // Opens its readwrite transaction on `updates` synchronously; a failure (quota) leaves the log and the mark as they were.
      storeState(this.persistence, true).catch(() => undefined);
    } catch {
      return; // The database is closing: the replica is being destroyed, or reset (which deletes it).
    }
    // Created after storeState's and sharing `updates` with it: IndexedDB runs it once that one committed.
    this.write([UPDATES, CUSTOM], (tx) => tx.objectStore(CUSTOM).delete(PENDING_KEY));
  }

  private write(stores: string[], work: (tx: IDBTransaction) => void): void {
    const db = this.persistence.db;
    if (!db) return;
    try {
      work(db.transaction(stores, 'readwrite'));
    } catch {
      // Closing: see compact.
    }
  }
}
