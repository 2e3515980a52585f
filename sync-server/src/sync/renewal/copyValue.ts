import * as Y from 'yjs';

/** A value to set in another document: nested maps are copied (a Y.Map belongs to one document), plain values as they are. */
export function copyValue(value: unknown): unknown {
  if (value instanceof Y.Map) {
    const copy = new Y.Map<unknown>();
    for (const [key, inner] of value.entries()) copy.set(key, copyValue(inner));
    return copy;
  }
  if (value instanceof Y.AbstractType) return value.toJSON();
  return value;
}
