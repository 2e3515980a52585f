import * as Y from 'yjs';
import { findMessage, readReceipts, setRead } from '@parley/schema';

/**
 * Moves `userId`'s read receipt to `messageId` if that is further on than
 * where it is (a receipt for a message no longer in the document counts as
 * nowhere). Returns whether it moved.
 */
export function moveReceiptForward(doc: Y.Doc, userId: string, messageId: string): boolean {
  const target = findMessage(doc, messageId);
  if (!target) return false;
  const current = readReceipts(doc)[userId];
  if (current) {
    if (current.messageId === messageId) return false;
    const at = findMessage(doc, current.messageId);
    if (at && at.index >= target.index) return false;
  }
  setRead(doc, userId, messageId);
  return true;
}

/**
 * The chat notifications a transaction on an inbox document marked read
 * (readAt from null to a time), as the conversation and message each is
 * about. Set by the owner's client, the API or read-all alike.
 */
export function chatReadsOf(transaction: Y.Transaction, notifications: Y.Map<Y.Map<unknown>>): Array<{ conversationId: string; messageId: string }> {
  const reads: Array<{ conversationId: string; messageId: string }> = [];
  for (const [type, keys] of transaction.changed) {
    if (!keys.has('readAt') || !(type instanceof Y.Map) || (type.parent as unknown) !== notifications) continue;
    if (type.get('kind') !== 'new_message' || typeof type.get('readAt') !== 'number') continue;
    const data = type.get('data') as { conversationId?: unknown; messageId?: unknown } | undefined;
    if (typeof data?.conversationId === 'string' && typeof data.messageId === 'string') reads.push({ conversationId: data.conversationId, messageId: data.messageId });
  }
  return reads;
}
