import { decodeVector, encodeVector, type StateVector } from './AckVector';
import type { ReactionRemoval } from './ReactionRemovals';

const isRemoval = (value: unknown): value is ReactionRemoval => {
  const v = value as Partial<ReactionRemoval> | null;
  return typeof v === 'object' && v !== null && typeof v.messageId === 'string' && typeof v.emoji === 'string' && typeof v.at === 'number';
};

/**
 * A small IndexedDB store beside the y-indexeddb replicas: the acknowledged
 * state vector of each document, so `pending` survives a reload offline, the
 * own reaction removals not yet acknowledged (they have no clock), and
 * the ids of the user's conversations, so the list shows with no network.
 */
const STORE = 'meta';

/**
 * A transaction, or null once the connection is closed (the tab's replicas
 * were deleted, or the browser closed it): what the store keeps is a cache
 * of what the server and the replica hold, so a late write is dropped, not thrown.
 */
function transaction(db: IDBDatabase, mode: IDBTransactionMode): IDBTransaction | null {
  try {
    return db.transaction(STORE, mode);
  } catch {
    return null;
  }
}

export class MetaStore {
  private db: Promise<IDBDatabase | null>;

  constructor(readonly dbName: string) {
    this.db = new Promise((resolve) => {
      if (typeof indexedDB === 'undefined') return resolve(null);
      const request = indexedDB.open(dbName, 1);
      request.onupgradeneeded = () => request.result.createObjectStore(STORE);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => resolve(null);
    });
  }

  async readAck(docName: string): Promise<StateVector> {
    return decodeVector(await this.get(`ack:${docName}`));
  }

  writeAck(docName: string, vector: StateVector): Promise<void> {
    return this.put(`ack:${docName}`, encodeVector(vector));
  }

  deleteAck(docName: string): Promise<void> {
    return this.put(`ack:${docName}`, undefined);
  }

  /** Own reaction removals not yet acknowledged (ReactionRemovals). */
  async readRemovals(docName: string): Promise<ReactionRemoval[]> {
    const value = await this.get(`removals:${docName}`);
    return Array.isArray(value) ? value.filter(isRemoval) : [];
  }

  writeRemovals(docName: string, removals: ReactionRemoval[]): Promise<void> {
    return this.put(`removals:${docName}`, removals.length > 0 ? removals : undefined);
  }

  async readConversationIds(): Promise<string[]> {
    const value = await this.get('conversations');
    return Array.isArray(value) ? value.filter((id): id is string => typeof id === 'string') : [];
  }

  writeConversationIds(ids: string[]): Promise<void> {
    return this.put('conversations', ids);
  }

  private async get(key: string): Promise<unknown> {
    const db = await this.db;
    if (!db) return undefined;
    return new Promise((resolve) => {
      const tx = transaction(db, 'readonly');
      if (!tx) return resolve(undefined);
      const request = tx.objectStore(STORE).get(key);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => resolve(undefined);
    });
  }

  private async put(key: string, value: unknown): Promise<void> {
    const db = await this.db;
    if (!db) return;
    await new Promise<void>((resolve) => {
      const tx = transaction(db, 'readwrite');
      if (!tx) return resolve();
      if (value === undefined) tx.objectStore(STORE).delete(key);
      else tx.objectStore(STORE).put(value, key);
      tx.oncomplete = tx.onerror = tx.onabort = () => resolve();
    });
  }

  async close(): Promise<void> {
    (await this.db)?.close();
  }
}
