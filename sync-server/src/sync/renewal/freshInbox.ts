import * as Y from 'yjs';
import { DEFAULTS, inboxParts } from '@parley/schema';
import { copyValue } from './copyValue';
import type { FreshWindow } from './freshWindow';

/**
 * The next epoch of `inbox:<userId>` (issue 9): a new Y.Doc, written by a
 * new server client id, holding what the inbox holds now (its notifications,
 * the `conversations` summary, `prefs`), each copied field by field. What
 * the old one carried besides (the tombstones of notifications moved to the
 * archive, of overwritten summaries and fields) stays behind.
 */
export function freshInbox(live: Y.Doc): FreshWindow {
  const from = inboxParts(live);
  const doc = new Y.Doc();
  const to = inboxParts(doc);
  doc.transact(() => {
    for (const [key, value] of from.notifications.entries()) to.notifications.set(key, copyValue(value) as Y.Map<unknown>);
    for (const [key, value] of from.conversations.entries()) to.conversations.set(key, copyValue(value) as never);
    for (const [key, value] of from.prefs.entries()) to.prefs.set(key, copyValue(value) as Y.Map<unknown>);
  });
  const result = { update: Y.encodeStateAsUpdate(doc), serverClientId: doc.clientID, epoch: 0, kept: to.notifications.size };
  doc.destroy();
  return result;
}

/**
 * The inbox is due for renewal when what it carries beyond its content (the
 * difference between its encoded size and the fresh copy's) passes
 * `DEFAULTS.inboxTombstoneBytesMax`: its size then follows the history (moved
 * notifications, every summary overwritten by a chat message), not what it holds.
 */
export function inboxOutgrown(live: Y.Doc, fresh: FreshWindow): boolean {
  return Y.encodeStateAsUpdate(live).byteLength - fresh.update.byteLength > DEFAULTS.inboxTombstoneBytesMax;
}
