import * as Y from 'yjs';

/**
 * The acknowledged state vector of one document: client id -> clock up to
 * which the server is known to hold every item. A local item (client, clock)
 * is acknowledged, hence durable, exactly when `clock < vector.get(client)`.
 *
 * It grows from two sources: the state vector each answer of the server
 * covers (ParleyProvider: the document as it was when the answered sync
 * step 2 or update went out), and the clients a
 * transaction from the server advanced (the server integrates a client's
 * items in order, so holding clock n means holding everything below it).
 */
export type StateVector = Map<number, number>;

export function mergeVectors(into: StateVector, from: StateVector): boolean {
  let grew = false;
  for (const [client, clock] of from) {
    if ((into.get(client) ?? 0) < clock) {
      into.set(client, clock);
      grew = true;
    }
  }
  return grew;
}

export const vectorOfDoc = (doc: Y.Doc): StateVector => Y.decodeStateVector(Y.encodeStateVector(doc));

export function covers(vector: StateVector, id: Y.ID): boolean {
  return id.clock < (vector.get(id.client) ?? 0);
}

/** True when the document holds something the vector does not cover. */
export function hasUncovered(doc: Y.Doc, vector: StateVector): boolean {
  for (const [client, clock] of vectorOfDoc(doc)) if ((vector.get(client) ?? 0) < clock) return true;
  return false;
}

/** The Yjs id of the item that holds a shared type (a message's map). */
export function itemId(type: { _item: Y.Item | null }): Y.ID | null {
  return type._item?.id ?? null;
}

export const encodeVector = (vector: StateVector): number[][] => [...vector.entries()].map(([c, k]) => [c, k]);
export function decodeVector(value: unknown): StateVector {
  const vector: StateVector = new Map();
  if (!Array.isArray(value)) return vector;
  for (const pair of value) {
    if (Array.isArray(pair) && typeof pair[0] === 'number' && typeof pair[1] === 'number') vector.set(pair[0], pair[1]);
  }
  return vector;
}
