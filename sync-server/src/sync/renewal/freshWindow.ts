import * as Y from 'yjs';
import { conversationParts, readEpoch } from '@parley/schema';
import { copyValue } from './copyValue';

export interface FreshWindow {
  /** The whole new document, as one update. */
  update: Uint8Array;
  /** The Yjs client id that wrote it: the server's in the new epoch. */
  serverClientId: number;
  epoch: number;
  /** Messages it holds. */
  kept: number;
}

/**
 * The next epoch of a conversation's live document (issue 9, item 2): a new
 * Y.Doc, written by a new server client id, holding `meta` (with `epoch` one
 * higher), `members`, `reads`, `outside` and the newest `window` messages in their array
 * order, each copied field by field (its `reactions` map included). No
 * tombstone of the old epoch comes along: its size follows the window, not
 * the history. Older messages stay in the message index.
 */
export function freshWindow(live: Y.Doc, window: number): FreshWindow {
  const from = conversationParts(live);
  const doc = new Y.Doc();
  const to = conversationParts(doc);
  const epoch = readEpoch(live) + 1;
  const all = from.messages.toArray();
  const kept = all.slice(Math.max(0, all.length - window));
  doc.transact(() => {
    for (const [key, value] of from.meta.entries()) to.meta.set(key, copyValue(value));
    to.meta.set('epoch', epoch);
    for (const [key, value] of from.members.entries()) to.members.set(key, copyValue(value) as never);
    for (const [key, value] of from.reads.entries()) to.reads.set(key, copyValue(value) as never);
    // The announcements of changes outside the window (bounded), without the tombstones of earlier ones.
    for (const [key, value] of from.outside.entries()) to.outside.set(key, value);
    to.messages.push(kept.map((message) => copyValue(message) as Y.Map<unknown>));
  });
  const result = { update: Y.encodeStateAsUpdate(doc), serverClientId: doc.clientID, epoch, kept: kept.length };
  doc.destroy();
  return result;
}
