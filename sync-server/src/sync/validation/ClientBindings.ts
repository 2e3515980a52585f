import { DEFAULTS } from '@parley/schema';
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
  /** Per open document: how many client ids each user owns there. */
  private readonly counts = new Map<string, Map<string, number>>();
  /**
   * Per open document, the in-memory document the bindings were loaded for:
   * a document renewed (issue 9, item 2) or reloaded under the same name may
   * load before the old one's unload has run, and must neither reuse the old
   * epoch's bindings nor lose its own to that late unload.
   */
  private readonly holders = new Map<string, object>();

  constructor(
    private readonly store: ClientBindingStore,
    private readonly maxPerUser: number = DEFAULTS.clientIdsMaxPerUserPerDocument,
  ) {}

  async load(doc: string, holder?: object): Promise<void> {
    const current = () => this.open.has(doc) && (holder === undefined || this.holders.get(doc) === holder);
    if (current()) return;
    const owners = await this.store.all(doc);
    if (current()) return;
    if (holder !== undefined) this.holders.set(doc, holder);
    const counts = new Map<string, number>();
    for (const userId of owners.values()) counts.set(userId, (counts.get(userId) ?? 0) + 1);
    this.open.set(doc, owners);
    this.counts.set(doc, counts);
  }

  unload(doc: string, holder?: object): void {
    if (holder !== undefined && this.holders.has(doc) && this.holders.get(doc) !== holder) return;
    this.holders.delete(doc);
    this.open.delete(doc);
    this.counts.delete(doc);
  }

  /**
   * Whether a user may own `more` client ids in the document: every one is a
   * binding kept for good, and a client can mint a new id per update.
   */
  hasRoom(doc: string, userId: string, more: number): boolean {
    if (userId === SERVER_WRITER) return true;
    return (this.counts.get(doc)?.get(userId) ?? 0) + more <= this.maxPerUser;
  }

  ownerOf(doc: string, clientId: number): string | null {
    return this.open.get(doc)?.get(clientId) ?? null;
  }

  /** Whether any of these ids was retired by a renewal of the document (issue 9, item 2). */
  anyRetired(doc: string, clientIds: readonly number[]): Promise<boolean> {
    return this.store.anyRetired(doc, clientIds);
  }

  /** Records owners; false when a client id is already someone else's. */
  async bind(doc: string, clientIds: number[], userId: string): Promise<boolean> {
    const owners = this.open.get(doc);
    if (!owners) throw new Error(`bindings of ${doc} are not loaded`);
    for (const id of clientIds) {
      const owner = owners.get(id);
      if (owner !== undefined && owner !== userId) return false;
    }
    const counts = this.counts.get(doc)!;
    for (const id of clientIds) {
      if (owners.has(id)) continue;
      // Stored first: a binding that failed to store (the disk full) must not be held as if it were.
      const owner = await this.store.bind(doc, id, userId);
      owners.set(id, owner);
      counts.set(owner, (counts.get(owner) ?? 0) + 1);
      // Bound already, by a server sharing the store (issue 15) whose binding this one had not seen.
      if (owner !== userId) return false;
    }
    return true;
  }
}
