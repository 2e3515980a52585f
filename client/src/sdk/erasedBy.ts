import * as Y from 'yjs';
import { conversationParts, inboxParts } from '@parley/schema';

/**
 * What a transaction overwrote that must leave this device's disk, by
 * document kind: a replica's IndexedDB log keeps every update as it came,
 * the old text included, until it is compacted (LocalCompaction). Only
 * transactions that deleted something can have left such text behind.
 */
export interface ErasedBy {
  /**
   * Defines the document's root types; call on a new, empty doc. A root type
   * first reached after an update named it is swapped for a new instance,
   * so `transaction.changed` would name one `erased` never compares equal.
   */
  define(doc: Y.Doc): void;
  /** The ids of what the transaction overwrote that must leave the device. */
  erased(transaction: Y.Transaction, doc: Y.Doc): string[];
}

const deletedSomething = (transaction: Y.Transaction): boolean => transaction.deleteSet.clients.size > 0;

/** A conversation: the ids of the messages this transaction soft-deleted (its own or a remote deletion). */
export const softDeletedMessages: ErasedBy = {
  define: (doc) => void conversationParts(doc),
  erased: (transaction, doc) => {
    if (!deletedSomething(transaction)) return [];
    const messages = conversationParts(doc).messages;
    const ids: string[] = [];
    for (const [type, keys] of transaction.changed) {
      if (!(type instanceof Y.Map) || type.parent !== messages || !keys.has('deletedAt')) continue;
      const id = type.get('deletedAt') === undefined ? undefined : type.get('id');
      if (typeof id === 'string') ids.push(id);
    }
    return ids;
  },
};

/**
 * An inbox: the ids of the notifications whose quote (`body`) was replaced,
 * and of the conversations whose summary (its `lastMessage`) was. The server
 * rewrites them when a message is edited or deleted, and as new messages
 * come; which old quote was of a deleted message the replica cannot tell, so
 * every replaced one counts.
 */
export const replacedQuotes: ErasedBy = {
  define: (doc) => void inboxParts(doc),
  erased: (transaction, doc) => {
    if (!deletedSomething(transaction)) return [];
    const { notifications, conversations } = inboxParts(doc);
    const ids: string[] = [];
    for (const [type, keys] of transaction.changed) {
      if ((type as unknown) === conversations) for (const key of keys) if (key !== null) ids.push(key);
      if (type instanceof Y.Map && type.parent === notifications && keys.has('body')) {
        const id = type.get('id');
        if (typeof id === 'string') ids.push(id);
      }
    }
    return ids;
  },
};
