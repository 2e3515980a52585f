import type * as Y from 'yjs';
import type { Place, PlaceResolver } from './PlaceResolver';
import type { Refusal } from './Refusal';
import type { Writer } from './Writer';

/** What a client may write in one kind of document, judged item by item. */
export interface DocumentRules {
  /** The root types this kind of document has; no update may name another. */
  roots: ReadonlySet<string>;
  /** A new item at `place`. */
  insert(item: Y.Item, place: Place, writer: Writer, resolver: PlaceResolver): Refusal | null;
  /** The deletion of a stored item at `place`. */
  delete(item: Y.Item, place: Place, writer: Writer, resolver: PlaceResolver): Refusal | null;
  /** Checks across the whole update, after every item passed. */
  complete(newItems: Y.Item[], writer: Writer, resolver: PlaceResolver): Refusal | null;
}
