import type { Notification } from '@parley/schema';
import type { MessageIndex } from '../../storage/Storage';
import { quoteOfIndexed } from './conversationDigest';
import { render } from './templates';

/**
 * The notifications that quote a conversation's messages (`new_message` and
 * `mention`), whose quotes follow edits and deletions: their ids, and the
 * quotes as the message index has them now.
 */

/** The id of the chat notification about a message (one per message it was first created for). */
export const chatNotificationId = (conversationId: string, messageId: string): string => `chat:${conversationId}:${messageId}`;

/** One notification per mentioned member and message: a replayed job, a resync or a second edit never adds another. */
export const mentionNotificationId = (conversationId: string, messageId: string, userId: string): string => `mention:${conversationId}:${messageId}:${userId}`;

/** Every quoting notification of the conversation has an id with one of these prefixes (ids hold no `:`). */
export const quotingIdPrefixes = (conversationId: string): string[] => [`chat:${conversationId}:`, `mention:${conversationId}:`];

/** The body that quotes this text (the same for chat and mention notifications). */
export const quotedBody = (quote: string): string => render('new_message', { text: quote }).body;

/** Quotes of these messages as they are now; a message the index does not know (yet) has none (nothing says it changed). */
export async function currentQuotes(index: MessageIndex, conversationId: string, messageIds: Iterable<unknown>): Promise<Map<string, string>> {
  const quotes = new Map<string, string>();
  for (const id of new Set(messageIds)) {
    if (typeof id !== 'string') continue;
    const indexed = await index.get(conversationId, id);
    if (indexed) quotes.set(id, quoteOfIndexed(indexed));
  }
  return quotes;
}

/** The body the notification should have now, or null when it already has it (or its message is unknown). */
export function requotedBody(n: Notification, quotes: Map<string, string>): string | null {
  const quote = typeof n.data.messageId === 'string' ? quotes.get(n.data.messageId) : undefined;
  if (quote === undefined) return null;
  const body = quotedBody(quote);
  return n.body === body ? null : body;
}
