import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { covers, decodeVector, encodeVector, hasUncovered, itemId, mergeVectors, vectorOfDoc } from './AckVector';

describe('AckVector', () => {
  it('covers an item exactly when its clock is below the acknowledged clock', () => {
    const doc = new Y.Doc();
    const array = doc.getArray<Y.Map<unknown>>('messages');
    const first = new Y.Map<unknown>();
    array.push([first]);
    const acknowledged = vectorOfDoc(doc);
    const second = new Y.Map<unknown>();
    array.push([second]);
    expect(covers(acknowledged, itemId(first)!)).toBe(true);
    expect(covers(acknowledged, itemId(second)!)).toBe(false);
    expect(hasUncovered(doc, acknowledged)).toBe(true);
    expect(hasUncovered(doc, vectorOfDoc(doc))).toBe(false);
  });

  it('merges by taking the larger clock and reports growth', () => {
    const into = new Map([[1, 5]]);
    expect(mergeVectors(into, new Map([[1, 3], [2, 1]]))).toBe(true);
    expect([...into]).toEqual([[1, 5], [2, 1]]);
    expect(mergeVectors(into, new Map([[1, 5]]))).toBe(false);
  });

  it('survives encoding for storage', () => {
    const doc = new Y.Doc();
    doc.getMap('m').set('a', 1);
    const vector = vectorOfDoc(doc);
    expect(vector.get(doc.clientID)).toBe(1);
    expect(decodeVector(encodeVector(vector))).toEqual(vector);
    expect(decodeVector('junk').size).toBe(0);
  });
});
