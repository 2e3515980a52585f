import type { IndexedMessage, MessageIndex } from '../../storage/Storage';

export interface MemberDigest {
  /** Exact: every message by others after the member's receipt, not deleted, not system. */
  unread: number;
  lastMessage: { author: string; text: string; at: number } | null;
  /** The newest unread message by someone else, for the chat notification. */
  latestUnread: { id: string; author: string; text: string; at: number } | null;
}

/** What a notification or a summary shows of a deleted message: never its old text. */
export const DELETED_QUOTE = 'Message deleted';

/** A message as the inbox may quote it now: its current text, or DELETED_QUOTE. */
export const quoteOf = (m: { text: string; deleted: boolean }): string => (m.deleted ? DELETED_QUOTE : m.text);

const isDeleted = (m: IndexedMessage) => m.deletedAt !== undefined && m.deletedAt !== null;

/** The quote of an indexed message (see quoteOf). */
export const quoteOfIndexed = (m: IndexedMessage): string => quoteOf({ text: m.text, deleted: isDeleted(m) });

/**
 * Every member's view of a conversation (unread count, last message, newest
 * unread message by someone else), read from the message index, never the
 * document: three indexed queries per member, so the cost follows the
 * members (and the authors they block), not their unread messages, the
 * history nor the live document (which no longer holds the whole history).
 * Counts are exact, uncapped.
 * Messages by users a member blocks (`blocked`: member -> blocked ids) neither
 * count as unread for that member nor notify them (issue 14).
 */
export async function digestAll(
  index: MessageIndex,
  conversationId: string,
  members: string[],
  blocked: ReadonlyMap<string, ReadonlySet<string>> = new Map(),
): Promise<Map<string, MemberDigest>> {
  const last = await index.last(conversationId);
  const lastMessage = last ? { author: last.author, text: quoteOfIndexed(last), at: last.createdAt } : null;
  const digests = new Map<string, MemberDigest>();
  for (const userId of members) {
    const ignored = [...(blocked.get(userId) ?? [])];
    const unread = await index.unread(conversationId, userId, ignored);
    const latest = unread > 0 ? await index.latestUnread(conversationId, userId, ignored) : null;
    digests.set(userId, {
      unread,
      lastMessage,
      latestUnread: latest ? { id: latest.id, author: latest.author, text: latest.text, at: latest.createdAt } : null,
    });
  }
  return digests;
}
