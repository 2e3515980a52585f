import * as Y from 'yjs';
import { ConversationKeys, conversationParts, messageToJSON, type ReadReceipt } from '@parley/schema';
import type { IndexChange, IndexableMessage } from '../../storage/Storage';
import { forEachAddedItem, forEachDeletedItem } from './changedItems';

/**
 * What one change of a document means for the message index: every message
 * map an item of the change (or a deletion) sits in, whole, and every read
 * receipt it sets. Read from the document once it holds the change, with the
 * transaction its `update` event gave: the structs between the
 * transaction's before and after state are the ones it added, its delete set
 * the ones it removed, exactly what the event's update encodes (so the
 * update need not be decoded once more). Costs a walk up the parents of each
 * of those, never a scan of the history.
 */
export function indexChangeOf(doc: Y.Doc, conversationId: string, transaction: Y.Transaction, mentioned?: Set<string>): IndexChange {
  const touched: Touched = { messageMaps: new Set(), readers: new Set(), mentioned };
  forEachAddedItem(transaction, visitAdded, touched);
  forEachDeletedItem(transaction, visitItem, touched);
  const receipts = conversationParts(doc).reads;
  const reads: IndexChange['reads'] = [];
  for (const userId of touched.readers) {
    const receipt = receipts.get(userId) as ReadReceipt | undefined;
    if (receipt && typeof receipt.messageId === 'string') reads.push({ userId, messageId: receipt.messageId, at: Number(receipt.at) || 0 });
  }
  return { conversationId, messages: [...touched.messageMaps].filter(isIndexable).map(indexable), reads };
}

/** The messages and receipts the items of one change sit in (module-level visitors: see changedItems). */
interface Touched {
  messageMaps: Set<Y.Map<unknown>>;
  readers: Set<string>;
  mentioned: Set<string> | undefined;
}

function visitItem(item: Y.Item, touched: Touched): ReturnType<typeof placeInConversation> {
  const place = placeInConversation(item);
  if (place?.message) touched.messageMaps.add(place.message);
  if (place?.reader) touched.readers.add(place.reader);
  return place;
}

function visitAdded(item: Y.Item, touched: Touched): void {
  const place = visitItem(item, touched);
  // Mentions set by this change (a new message's, or an edit's): the mention notifier's work.
  if (touched.mentioned && place?.field === 'mentions' && !item.deleted && typeof place.message?.get('id') === 'string') touched.mentioned.add(place.message.get('id') as string);
}

/** Every message of a document, for building the index of a conversation stored before it existed. */
export function wholeIndexOf(doc: Y.Doc, conversationId: string): IndexChange {
  const maps = conversationParts(doc).messages.toArray().filter(isIndexable);
  const reads = Object.entries(conversationParts(doc).reads.toJSON() as Record<string, ReadReceipt>)
    .filter(([, r]) => typeof r?.messageId === 'string')
    .map(([userId, r]) => ({ userId, messageId: r.messageId, at: Number(r.at) || 0 }));
  return { conversationId, messages: maps.map(indexable), reads };
}

const isString = (value: unknown): value is string => typeof value === 'string';
const isIndexable = (map: unknown): map is Y.Map<unknown> => map instanceof Y.Map && typeof map.get('id') === 'string';

/** A message map as an index row (also for REST changes of messages outside the window, ArchivedWrites). */
export function indexable(map: Y.Map<unknown>): IndexableMessage {
  const message = messageToJSON(map);
  const mentions = map.get('mentions');
  return Array.isArray(mentions) ? { ...message, mentions: mentions.filter(isString) } : message;
}

/** The message map an item belongs to (at any depth) with the field it is in, or the reader whose receipt it is. */
function placeInConversation(item: Y.Item): { message?: Y.Map<unknown>; field?: string | null; reader?: string } | null {
  let current: Y.Item = item;
  let below: Y.Item | null = null;
  for (;;) {
    const parent = current.parent;
    if (!(parent instanceof Y.AbstractType)) return null;
    const container = parent._item;
    if (!container) {
      // `parent` is a root type.
      const root = Y.findRootTypeKey(parent);
      if (root === ConversationKeys.reads) return current.parentSub ? { reader: current.parentSub } : null;
      if (root === ConversationKeys.messages && current.content instanceof Y.ContentType) return { message: current.content.type as Y.Map<unknown>, field: below?.parentSub ?? null };
      return null;
    }
    below = current;
    current = container;
  }
}
