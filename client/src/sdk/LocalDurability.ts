import type * as Y from 'yjs';
import type { IndexeddbPersistence } from 'y-indexeddb';
import { mergeVectors, vectorOfDoc, type StateVector } from './AckVector';

/** y-indexeddb's object store for document updates. */
const UPDATES_STORE = 'updates';

/**
 * Which items of a document are committed to its IndexedDB replica: the
 * *durable state vector* (client id -> clock below which every item is safe
 * on this device). A reload or a closed tab keeps exactly those.
 *
 * y-indexeddb writes each update in its own readwrite transaction on the
 * `updates` store and never says when it commits. IndexedDB runs readwrite
 * transactions on the same store in the order they were created, so after
 * local changes we open an empty readwrite transaction on that store (a
 * barrier): when it completes, every write created before it has committed,
 * and the document's state vector as it was when the barrier was opened is
 * durable. Barriers are coalesced to one per microtask.
 *
 * If the page goes away first, the barrier is aborted with the writes before
 * it and nothing is claimed. Caveat: a y-indexeddb write that fails on its own
 * (quota) is not seen; the barrier after it still completes.
 */
export class LocalDurability {
  readonly vector: StateVector = new Map();
  private started = false;
  /** A change not from IndexedDB arrived before the replica finished loading. */
  private changedBeforeLoad = false;
  private scheduled = false;
  private closed = false;

  /**
   * Create right after the `IndexeddbPersistence`, so this update listener
   * runs after the one that opens y-indexeddb's write.
   */
  constructor(
    private readonly doc: Y.Doc,
    private readonly persistence: IndexeddbPersistence,
    private readonly onAdvance: () => void,
  ) {
    doc.on('update', this.onUpdate);
  }

  /**
   * Call once the replica is loaded (`whenSynced`): what came from IndexedDB
   * is durable already. Changes made before that are written by y-indexeddb's
   * load transaction, which is still open, so they wait for a barrier.
   */
  start(): void {
    this.started = true;
    if (this.changedBeforeLoad) this.schedule();
    // Reported like a barrier: views computed while loading must not keep `saving`.
    else if (mergeVectors(this.vector, vectorOfDoc(this.doc))) this.onAdvance();
  }

  close(): void {
    this.closed = true;
    this.doc.off('update', this.onUpdate);
  }

  private onUpdate = (_update: Uint8Array, origin: unknown): void => {
    if (origin === this.persistence) return;
    if (!this.started) this.changedBeforeLoad = true;
    else this.schedule();
  };

  private schedule(): void {
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    queueMicrotask(this.openBarrier);
  }

  private openBarrier = (): void => {
    this.scheduled = false;
    const db = this.persistence.db;
    if (this.closed || !db) return;
    const upTo = vectorOfDoc(this.doc);
    let barrier: IDBTransaction;
    try {
      barrier = db.transaction(UPDATES_STORE, 'readwrite');
    } catch {
      return; // The database is closing: the replica is being destroyed.
    }
    barrier.oncomplete = () => {
      if (!this.closed && mergeVectors(this.vector, upTo)) this.onAdvance();
    };
  };
}
