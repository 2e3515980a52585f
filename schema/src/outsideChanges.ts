import * as Y from 'yjs';
import { conversationParts } from './conversation';
import { DEFAULTS } from './defaults';

/**
 * The live document's announcements of changes to messages outside the live
 * window (issue 9): the server writes `outside[messageId] = at` (its clock)
 * after each such change is stored in the message index; a client that shows
 * that message (from a history page) fetches it again
 * (`GET /api/conversations/:id/messages/:messageId`). Keyed by message id, so
 * a message changed twice is one entry; at most `max` entries, the oldest
 * dropped first.
 */
export function announceOutsideChange(doc: Y.Doc, messageId: string, at: number, max: number = DEFAULTS.outsideChangesMax): void {
  const outside = conversationParts(doc).outside;
  doc.transact(() => {
    // Strictly increasing per message, so an observer always sees a new value (two changes in one ms).
    const previous = outside.get(messageId);
    outside.set(messageId, typeof previous === 'number' && previous >= at ? previous + 1 : at);
    if (outside.size <= max) return;
    const oldest = [...outside.entries()].sort((a, b) => a[1] - b[1]).slice(0, outside.size - max);
    for (const [id] of oldest) outside.delete(id);
  });
}

/** The announcements, message id -> time of the change. */
export function readOutsideChanges(doc: Y.Doc): Record<string, number> {
  const entries: Record<string, number> = {};
  for (const [id, at] of conversationParts(doc).outside.entries()) if (typeof at === 'number') entries[id] = at;
  return entries;
}

/**
 * How many values the map took in this document (live, overwritten and
 * removed ones: each overwritten or removed one is a tombstone). O(writes),
 * which the renewal keeps below `DEFAULTS.outsideChangesRenewAfter`.
 */
export function outsideWrites(doc: Y.Doc): number {
  let count = 0;
  const items = (conversationParts(doc).outside as unknown as { _map: Map<string, Y.Item> })._map;
  for (const last of items.values()) for (let item: Y.Item | null = last; item; item = item.left as Y.Item | null) count++;
  return count;
}
