import * as Y from 'yjs';
import { UpdateRejection, conversationParts } from '@parley/schema';
import { refusal, type Refusal } from './Refusal';
import { forEachAddedItem } from '../../domain/history/changedItems';

const indexes = new WeakMap<Y.Doc, Set<string>>();

function addMessage(ids: Set<string>, content: Y.Item['content']): void {
  if (!(content instanceof Y.ContentType) || !(content.type instanceof Y.Map)) return;
  const id: unknown = content.type.get('id');
  if (typeof id === 'string') ids.add(id);
}

function addIfMessage(item: Y.Item, { messages, ids }: { messages: Y.Array<Y.Map<unknown>>; ids: Set<string> }): void {
  if (item.parent === messages && !item.deleted) addMessage(ids, item.content);
}

/**
 * The ids of a conversation's messages, kept beside its document so the
 * validator tells a reused id in O(update) instead of scanning the history.
 * Built in one pass the first time a loaded document is judged, then kept up
 * to date by observing its messages, whoever writes them (clients, the
 * server); it goes with the document when it is unloaded. Ids are never
 * removed: messages are soft-deleted, and a refused update never reaches it.
 */
export function messageIds(doc: Y.Doc): ReadonlySet<string> {
  const known = indexes.get(doc);
  if (known) return known;
  const ids = new Set<string>();
  const messages = conversationParts(doc).messages;
  for (let item = messages._start; item !== null; item = item.right) if (!item.deleted) addMessage(ids, item.content);
  // The transaction's own new items, not `event.changes`: that walks every message of the window.
  messages.observe((event) => forEachAddedItem(event.transaction, addIfMessage, { messages, ids }));
  indexes.set(doc, ids);
  return ids;
}

// --- Bounded live document (issue 9, item 2) ---
/** What the message index says about ids (Storage's MessageIndex.existing). */
export interface IdArchive {
  existing(conversationId: string, ids: readonly string[]): Promise<string[]>;
}

/** Ids claimed by updates judged but not applied yet, per document: two updates racing with one id cannot both pass. */
const inFlight = new WeakMap<Y.Doc, Set<string>>();

/**
 * A message id is unique in its conversation, not only in the live window:
 * once older messages have left the live document (a renewal), the index is
 * the only place that still knows their ids. One query per update with new
 * messages (the in-memory set above answers for the window). The ids are
 * held as claimed until the next turn, by which time the accepted update is
 * applied and in the set above.
 */
export async function refuseArchivedIds(doc: Y.Doc, archive: IdArchive, conversationId: string, ids: readonly string[]): Promise<Refusal | null> {
  if (ids.length === 0) return null;
  let claimed = inFlight.get(doc);
  if (!claimed) inFlight.set(doc, (claimed = new Set()));
  const held = claimed;
  const racing = ids.find((id) => held.has(id));
  if (racing) return refusal(UpdateRejection.duplicateId, `message id ${racing} is taken in this conversation`);
  for (const id of ids) held.add(id);
  setImmediate(() => ids.forEach((id) => held.delete(id)));
  const taken = await archive.existing(conversationId, ids);
  return taken.length ? refusal(UpdateRejection.duplicateId, `message id ${taken[0]} is taken in this conversation`) : null;
}
