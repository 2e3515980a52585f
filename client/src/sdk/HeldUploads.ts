import type { Attachment } from '@parley/schema';

/** A message with files, held on this device until every file is uploaded; then it is sent. */
export interface HeldMessage {
  /** The message's id, chosen when it was written, so a resend after a crash is recognised. */
  id: string;
  conversationId: string;
  text: string;
  createdAt: number;
  files: Array<{ name: string; blob: Blob; uploaded: Attachment | null }>;
}

const STORE = 'held';

/**
 * The durable queue of held messages, one IndexedDB database per user
 * (`<prefix>:uploads`, erased with the rest at sign-out): a file chosen
 * offline survives a reload or a closed tab and is uploaded when the network
 * is back.
 */
export class HeldUploads {
  private db: Promise<IDBDatabase> | null = null;

  constructor(private readonly name: string) {}

  put(message: HeldMessage): Promise<void> {
    return this.run('readwrite', (store) => store.put(message)).then(() => undefined);
  }

  drop(id: string): Promise<void> {
    return this.run('readwrite', (store) => store.delete(id)).then(() => undefined);
  }

  async all(): Promise<HeldMessage[]> {
    const held = (await this.run('readonly', (store) => store.getAll())) as HeldMessage[];
    return held.sort((a, b) => a.createdAt - b.createdAt);
  }

  private open(): Promise<IDBDatabase> {
    this.db ??= new Promise((resolve, reject) => {
      const request = indexedDB.open(this.name, 1);
      request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: 'id' });
      request.onsuccess = () => {
        const db = request.result;
        // Sign-out deletes this database: let go at once, or the deletion waits for this tab to close.
        db.onversionchange = () => {
          db.close();
          this.db = null;
        };
        resolve(db);
      };
      request.onerror = () => reject(request.error);
    });
    return this.db;
  }

  private async run(mode: IDBTransactionMode, act: (store: IDBObjectStore) => IDBRequest): Promise<unknown> {
    const db = await this.open();
    return new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const request = act(tx.objectStore(STORE));
      // Resolved once the transaction is committed, not when the request succeeds: held means durable.
      tx.oncomplete = () => resolve(request.result);
      tx.onerror = tx.onabort = () => reject(tx.error);
    });
  }
}
