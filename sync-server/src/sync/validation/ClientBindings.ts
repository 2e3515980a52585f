import type { ClientBindingStore } from '../../storage/Storage';

/** The owner recorded for the server's own writes. No user id can take this form. */
export const SERVER_WRITER = '@server';

/**
 * Which user owns each Yjs client id, per open document: the first user to
 * write with a client id owns it from then on, so nobody can slip items in
 * under someone else's id. Held in memory while the document is open and
 * written through to storage.
 */
export class ClientBindings {
  private readonly open = new Map<string, Map<number, string>>();

  constructor(private readonly store: ClientBindingStore) {}

  async load(doc: string): Promise<void> {
    if (!this.open.has(doc)) this.open.set(doc, await this.store.all(doc));
  }

  unload(doc: string): void {
    this.open.delete(doc);
  }

  ownerOf(doc: string, clientId: number): string | null {
    return this.open.get(doc)?.get(clientId) ?? null;
  }

  /** Records owners; false when a client id is already someone else's. */
  async bind(doc: string, clientIds: number[], userId: string): Promise<boolean> {
    const owners = this.open.get(doc);
    if (!owners) throw new Error(`bindings of ${doc} are not loaded`);
    for (const id of clientIds) {
      const owner = owners.get(id);
      if (owner !== undefined && owner !== userId) return false;
    }
    for (const id of clientIds) {
      if (owners.has(id)) continue;
      // Stored first: a binding that failed to store (the disk full) must not be held as if it were.
      await this.store.bind(doc, id, userId);
      owners.set(id, userId);
    }
    return true;
  }
}
