/**
 * Client-made ids: time first so they sort by creation, then randomness so
 * two offline devices never collide. Fits the schema's id grammar.
 */
export function newId(now = Date.now()): string {
  const time = now.toString(36).padStart(9, '0');
  const bytes = new Uint8Array(10);
  crypto.getRandomValues(bytes);
  let random = '';
  for (const byte of bytes) random += (byte % 36).toString(36);
  return `${time}-${random}`;
}
