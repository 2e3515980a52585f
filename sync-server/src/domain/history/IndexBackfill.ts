import * as Y from 'yjs';
import { conversationDocName } from '@parley/schema';
import type { Logger } from '../../logger';
import type { Storage } from '../../storage/Storage';
import { wholeIndexOf } from './indexChange';

/**
 * Builds the message index of every conversation stored before the index
 * existed, from its stored document: how a database of an earlier version
 * upgrades in place. Runs at start, before the server takes connections, so
 * no new message can take a place in the order before the old ones. A
 * conversation is marked built in the same transaction as its rows; one that
 * was created since the index exists is marked at creation and skipped.
 */
export async function backfillIndex(storage: Storage, logger: Logger): Promise<number> {
  const pending = await storage.messages.unbuilt();
  if (pending.length === 0) return 0;
  logger.info({ conversations: pending.length }, 'building the message index from stored conversations');
  for (const conversationId of pending) {
    const stored = await storage.documents.load(conversationDocName(conversationId));
    const doc = new Y.Doc();
    Y.transact(doc, () => {
      for (const part of stored.snapshot ? [stored.snapshot, ...stored.updates] : stored.updates) Y.applyUpdate(doc, part);
    });
    await storage.messages.write(wholeIndexOf(doc, conversationId), Date.now());
    doc.destroy();
    // One conversation per turn, so a big upgrade does not hold the loop for all of it at once.
    await new Promise((resolve) => setImmediate(resolve));
  }
  logger.info({ conversations: pending.length }, 'message index built');
  return pending.length;
}
