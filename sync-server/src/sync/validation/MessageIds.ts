import * as Y from 'yjs';
import { conversationParts } from '@parley/schema';

const indexes = new WeakMap<Y.Doc, Set<string>>();

function addMessage(ids: Set<string>, content: Y.Item['content']): void {
  if (!(content instanceof Y.ContentType) || !(content.type instanceof Y.Map)) return;
  const id: unknown = content.type.get('id');
  if (typeof id === 'string') ids.add(id);
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
  messages.observe((event) => {
    for (const item of event.changes.added) addMessage(ids, item.content);
  });
  indexes.set(doc, ids);
  return ids;
}
