/**
 * One IndexedDB object store of plain records keyed by a string, in its own
 * database, as promises; kept in memory where there is no IndexedDB (a
 * non-persisting session, Node). Used by the history cache and the outbox of
 * changes outside the live window. Failures read as "nothing there": a cache or an
 * outbox that cannot persist still works for the page's lifetime.
 */
const STORE = 'records';

export class IdbTable<T> {
  private readonly db: Promise<IDBDatabase | null>;
  private readonly memory = new Map<string, T>();

  constructor(readonly dbName: string, persist: boolean) {
    this.db = new Promise((resolve) => {
      if (!persist || typeof indexedDB === 'undefined') return resolve(null);
      const request = indexedDB.open(dbName, 1);
      request.onupgradeneeded = () => request.result.createObjectStore(STORE);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => resolve(null);
    });
  }

  async get(key: string): Promise<T | undefined> {
    const db = await this.db;
    if (!db) return this.memory.get(key);
    return this.request<T | undefined>(db, 'readonly', (store) => store.get(key), undefined);
  }

  async all(): Promise<Array<{ key: string; value: T }>> {
    const db = await this.db;
    if (!db) return [...this.memory].map(([key, value]) => ({ key, value }));
    const [keys, values] = await Promise.all([
      this.request<IDBValidKey[]>(db, 'readonly', (store) => store.getAllKeys(), []),
      this.request<T[]>(db, 'readonly', (store) => store.getAll(), []),
    ]);
    return keys.map((key, i) => ({ key: String(key), value: values[i]! }));
  }

  /** Resolves once the write is committed (durable on this device). */
  async put(key: string, value: T): Promise<void> {
    const db = await this.db;
    if (!db) return void this.memory.set(key, value);
    await this.commit(db, (store) => store.put(value, key));
  }

  async delete(keys: readonly string[]): Promise<void> {
    const db = await this.db;
    if (!db) return keys.forEach((key) => this.memory.delete(key));
    await this.commit(db, (store) => keys.forEach((key) => store.delete(key)));
  }

  async close(): Promise<void> {
    (await this.db)?.close();
  }

  private request<R>(db: IDBDatabase, mode: IDBTransactionMode, make: (store: IDBObjectStore) => IDBRequest, fallback: R): Promise<R> {
    return new Promise((resolve) => {
      try {
        const request = make(db.transaction(STORE, mode).objectStore(STORE));
        request.onsuccess = () => resolve(request.result as R);
        request.onerror = () => resolve(fallback);
      } catch {
        resolve(fallback);
      }
    });
  }

  private commit(db: IDBDatabase, write: (store: IDBObjectStore) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, 'readwrite');
      write(tx.objectStore(STORE));
      tx.oncomplete = () => resolve();
      tx.onerror = tx.onabort = () => reject(tx.error ?? new Error(`${this.dbName}: write failed`));
    });
  }
}
