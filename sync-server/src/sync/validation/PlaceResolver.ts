import * as Y from 'yjs';

/**
 * Where an item sits: under which root type, inside which container (the
 * item whose content is the parent type; null for a root), under which map
 * key (`sub`, null for array elements).
 */
export interface Place {
  root: string;
  container: Y.Item | null;
  sub: string | null;
}

/** The outcome of looking up an id: found, garbage-collected (anything placed next to it is dropped), or missing. */
type Lookup = { item: Y.Item } | { gc: true } | { missing: Y.ID };

const key = (id: Y.ID) => `${id.client}:${id.clock}`;

/**
 * Resolves the place of items from an incoming update, using the stored
 * document and the update itself. Costs a binary search per reference, so
 * validation grows with the update, not with the document's history.
 */
export class PlaceResolver {
  private readonly byClient = new Map<number, Y.Item[]>();
  private readonly memo = new Map<string, Place | Lookup>();
  /**
   * Ids of the new messages of the update (set by the rules): the live
   * document knows only its window, so the caller also asks the message index
   * whether an older message has one of them (see MessageIds).
   */
  claimedMessageIds: string[] = [];

  constructor(
    /** The stored document the update is judged against. */
    readonly doc: Y.Doc,
    updateItems: Y.Item[],
  ) {
    for (const item of updateItems) {
      let list = this.byClient.get(item.id.client);
      if (!list) this.byClient.set(item.id.client, (list = []));
      list.push(item);
    }
    for (const list of this.byClient.values()) list.sort((a, b) => a.id.clock - b.id.clock);
  }

  /** The place of an item, or why it cannot be placed. */
  placeOf(item: Y.Item): Place | { gc: true } | { missing: Y.ID } {
    const cached = this.memo.get(key(item.id));
    if (cached && !('item' in cached)) return cached;
    const place = this.compute(item);
    this.memo.set(key(item.id), place);
    return place;
  }

  /** Finds an item by id, in the stored document first, then in the update. */
  lookup(id: Y.ID): Lookup {
    const stored = this.doc.store.clients.get(id.client);
    if (stored && id.clock < Y.getState(this.doc.store, id.client)) {
      const struct = stored[Y.findIndexSS(stored, id.clock)];
      return struct instanceof Y.Item ? { item: struct } : { gc: true };
    }
    const incoming = this.byClient.get(id.client);
    if (incoming) {
      // Binary search: the update's items of one client are sorted by clock.
      let lo = 0;
      let hi = incoming.length - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        const item = incoming[mid]!;
        if (id.clock < item.id.clock) hi = mid - 1;
        else if (id.clock >= item.id.clock + item.length) lo = mid + 1;
        else return { item };
      }
    }
    return { missing: id };
  }

  /** True when the item is integrated in the stored document (not new in this update). */
  isStored(item: Y.Item): boolean {
    return item.parent instanceof Y.AbstractType;
  }

  private compute(item: Y.Item): Place | { gc: true } | { missing: Y.ID } {
    const parent = item.parent as unknown;
    if (parent instanceof Y.AbstractType) {
      const container = parent._item;
      return { root: container ? this.rootOf(container) : Y.findRootTypeKey(parent), container, sub: item.parentSub };
    }
    if (typeof parent === 'string') return { root: parent, container: null, sub: item.parentSub };
    if (parent instanceof Y.ID) {
      const found = this.lookup(parent);
      if (!('item' in found)) return found;
      const containerPlace = this.placeOf(found.item);
      if (!('root' in containerPlace)) return containerPlace;
      return { root: containerPlace.root, container: found.item, sub: item.parentSub };
    }
    // Positioned by a neighbour: same parent and key as the neighbour.
    const neighbour = item.origin ?? item.rightOrigin;
    if (!neighbour) return { gc: true };
    const found = this.lookup(neighbour);
    if (!('item' in found)) return found;
    return this.placeOf(found.item);
  }

  private rootOf(container: Y.Item): string {
    const place = this.placeOf(container);
    return 'root' in place ? place.root : '';
  }
}
