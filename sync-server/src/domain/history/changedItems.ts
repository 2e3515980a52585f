import * as Y from 'yjs';

/**
 * Visitors take a context argument instead of closing over their caller's
 * state: the server runs under tsx, whose esbuild transform names every
 * closure when it is created (an `Object.defineProperty` each time), and
 * these run for every update. A module-level visitor is named once.
 */
export type ItemVisitor<C> = (item: Y.Item, context: C) => void;

/** Calls `visit` with every item `client` holds in [clock, clock + len) of the document, in clock order. */
export function forEachStoredItem<C>(doc: Y.Doc, client: number, range: { clock: number; len: number }, visit: ItemVisitor<C>, context: C): void {
  const structs = doc.store.clients.get(client);
  if (!structs || range.clock >= Y.getState(doc.store, client)) return;
  const end = range.clock + range.len;
  for (let i = Y.findIndexSS(structs, range.clock); i < structs.length && structs[i]!.id.clock < end; i++) {
    const struct = structs[i]!;
    if (struct instanceof Y.Item) visit(struct, context);
  }
}

/**
 * Calls `visit` with every item a transaction added: the structs between its
 * before and after state, exactly what its update encodes. Costs a binary
 * search per client it touched and a step per added struct; unlike a YEvent's
 * `changes`, which walks the whole type it observes (every message of the
 * live window, for each new message).
 */
export function forEachAddedItem<C>(transaction: Y.Transaction, visit: ItemVisitor<C>, context: C): void {
  for (const [client, after] of transaction.afterState) {
    const before = transaction.beforeState.get(client) ?? 0;
    if (after > before) forEachStoredItem(transaction.doc, client, { clock: before, len: after - before }, visit, context);
  }
}

/** Calls `visit` with every stored item a transaction deleted. */
export function forEachDeletedItem<C>(transaction: Y.Transaction, visit: ItemVisitor<C>, context: C): void {
  for (const [client, ranges] of transaction.deleteSet.clients) {
    for (const range of ranges) forEachStoredItem(transaction.doc, client, range, visit, context);
  }
}
