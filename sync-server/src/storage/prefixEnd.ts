/**
 * The least string above every string that starts with `prefix` (its last
 * character bumped by one), so `key >= prefix AND key < prefixEnd(prefix)`
 * is a prefix match an index range can answer. For ASCII prefixes (ids
 * are), code-unit order is byte order.
 */
export function prefixEnd(prefix: string): string {
  if (prefix.length === 0) throw new Error('prefixEnd needs a non-empty prefix');
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}
