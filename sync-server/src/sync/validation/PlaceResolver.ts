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
/** A place, or why there is none. */
type Resolved = Place | { gc: true } | { missing: Y.ID };

const key = (id: Y.ID) => `${id.client}:${id.clock}`;

/**
 * Resolves the place of items from an incoming update, using the stored
 * document and the update itself. Costs a binary search per reference, so
 * validation grows with the update, not with the document's history.
 */
export class PlaceResolver {
  private readonly byClient = new Map<number, Y.Item[]>();
  private readonly memo = new Map<string, Resolved>();
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

  /**
   * The place of an item, or why it cannot be placed. Walks the chain of
   * neighbours and containers with a loop, not recursion: one update can chain
   * thousands of items (each from its own client id, each next to the one
   * before), which overflowed the stack and reset the connection. Every item is
   * walked at most once per update (the memo), so the work grows with the
   * update; a chain that comes back to itself can never be integrated and is
   * reported as missing.
   */
  placeOf(item: Y.Item): Resolved {
    const walked: Array<{ item: Y.Item; container: Y.Item | null }> = [];
    const onPath = new Set<Y.Item>();
    let current = item;
    let resolved: Resolved;
    for (;;) {
      const cached = this.memo.get(key(current.id));
      if (cached) {
        resolved = cached;
        break;
      }
      const step = this.step(current);
      if ('place' in step) {
        resolved = step.place;
        this.memo.set(key(current.id), resolved);
        break;
      }
      onPath.add(current);
      walked.push({ item: current, container: step.container });
      if (onPath.has(step.next)) {
        resolved = { missing: step.next.id };
        break;
      }
      current = step.next;
    }
    for (let i = walked.length - 1; i >= 0; i--) {
      const { item: at, container } = walked[i]!;
      if (container && 'root' in resolved) resolved = { root: resolved.root, container, sub: at.parentSub };
      this.memo.set(key(at.id), resolved);
    }
    return resolved;
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

  /**
   * One step of the walk: either the item's place is known from the item
   * alone, or it follows from `next`'s place: the same place (a neighbour,
   * `container` null), or inside `next` (its container).
   */
  private step(item: Y.Item): { place: Resolved } | { next: Y.Item; container: Y.Item | null } {
    const parent = item.parent as unknown;
    if (parent instanceof Y.AbstractType) {
      const container = parent._item;
      if (!container) return { place: { root: Y.findRootTypeKey(parent), container: null, sub: item.parentSub } };
      return { next: container, container };
    }
    if (typeof parent === 'string') return { place: { root: parent, container: null, sub: item.parentSub } };
    if (parent instanceof Y.ID) {
      const found = this.lookup(parent);
      return 'item' in found ? { next: found.item, container: found.item } : { place: found };
    }
    // Positioned by a neighbour: same parent and key as the neighbour.
    const neighbour = item.origin ?? item.rightOrigin;
    if (!neighbour) return { place: { gc: true } };
    const found = this.lookup(neighbour);
    return 'item' in found ? { next: found.item, container: null } : { place: found };
  }
}
