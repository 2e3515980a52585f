import * as Y from 'yjs';
import { conversationParts, type ReadReceipt } from '@parley/schema';

/**
 * How far back unread counts look. A member further behind sees this many
 * ("2000+" in a UI): the cost of a recompute stays bounded however long the
 * history.
 */
export const UNREAD_WINDOW = 2_000;

export interface MemberDigest {
  unread: number;
  lastMessage: { author: string; text: string; at: number } | null;
  /** The newest unread message by someone else, for the chat notification. */
  latestUnread: { id: string; author: string; text: string; at: number } | null;
}

interface WindowMessage {
  id: string;
  author: string;
  text: string;
  at: number;
  /** Counts towards unread: not deleted, not a system message. */
  counts: boolean;
  deleted: boolean;
}

/** What a notification or a summary shows of a deleted message: never its old text. */
export const DELETED_QUOTE = 'Message deleted';

/** A message as the inbox may quote it now: its current text, or DELETED_QUOTE. */
export const quoteOf = (m: { text: string; deleted: boolean }): string => (m.deleted ? DELETED_QUOTE : m.text);

/**
 * The newest UNREAD_WINDOW message maps. `Y.Array.slice` walks the list from its first item (so
 * O(history)); `get` finds the window's first message through Yjs' search markers, and from there
 * the item list is followed to the end.
 */
function newestMessages(doc: Y.Doc): Y.Map<unknown>[] {
  const array = conversationParts(doc).messages;
  if (array.length === 0) return [];
  const first = array.get(Math.max(0, array.length - UNREAD_WINDOW));
  const maps: Y.Map<unknown>[] = [];
  for (let item: Y.Item | null = first._item; item; item = item.right) {
    if (!item.deleted && item.content instanceof Y.ContentType) maps.push(item.content.type as Y.Map<unknown>);
  }
  return maps;
}

/** What a message map last read as, with the field items it was read from (Yjs replaces an item on every set). */
interface Extracted {
  text: Y.Item | undefined;
  deletedAt: Y.Item | undefined;
  message: WindowMessage;
}
const extracted = new WeakMap<Y.Map<unknown>, Extracted>();

/**
 * A message as the digest needs it, read once per map and again only after
 * its text or deletion changed (id, author, kind and time never change):
 * recomputes run often and re-reading thousands of maps each time dominated.
 */
function windowMessage(map: Y.Map<unknown>): WindowMessage {
  const fields = (map as unknown as { _map: Map<string, Y.Item> })._map;
  const text = fields.get('text');
  const deletedAt = fields.get('deletedAt');
  const cached = extracted.get(map);
  if (cached && cached.text === text && cached.deletedAt === deletedAt) return cached.message;
  const message: WindowMessage = {
    id: map.get('id') as string,
    author: map.get('author') as string,
    text: (map.get('text') as string) ?? '',
    at: (map.get('createdAt') as number) ?? 0,
    counts: map.get('deletedAt') === undefined && map.get('kind') !== 'system',
    deleted: map.get('deletedAt') !== undefined,
  };
  extracted.set(map, { text, deletedAt, message });
  return message;
}

/** Index of the first element >= value in an ascending list. */
function lowerBound(list: number[], value: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Every member's view of a conversation (unread count, last message, newest
 * unread message by someone else) from one pass over the newest messages:
 * O(window + members x log window), whatever the history and the number of members.
 * Messages by users a member blocks (`blocked`: member -> blocked ids) neither
 * count as unread for that member nor notify them (issue 14).
 */
export function digestAll(doc: Y.Doc, members: string[], reads: Record<string, ReadReceipt>, blocked: ReadonlyMap<string, ReadonlySet<string>> = new Map()): Map<string, MemberDigest> {
  const window = newestMessages(doc).map(windowMessage);
  // Positions of the messages that receipts point at, not of every message.
  const receiptIds = new Set(members.flatMap((userId) => (reads[userId] ? [reads[userId].messageId] : [])));
  const position = new Map<string, number>();
  window.forEach((m, i) => {
    if (receiptIds.has(m.id)) position.set(m.id, i);
  });
  const countsFrom = new Array<number>(window.length + 1).fill(0);
  const byAuthor = new Map<string, number[]>();
  for (let i = window.length - 1; i >= 0; i--) countsFrom[i] = countsFrom[i + 1]! + (window[i]!.counts ? 1 : 0);
  window.forEach((m, i) => {
    if (!m.counts) return;
    let list = byAuthor.get(m.author);
    if (!list) byAuthor.set(m.author, (list = []));
    list.push(i);
  });
  const last = window.at(-1);
  const lastMessage = last ? { author: last.author, text: quoteOf(last), at: last.at } : null;

  const digests = new Map<string, MemberDigest>();
  for (const userId of members) {
    const receipt = reads[userId];
    const start = receipt && position.has(receipt.messageId) ? position.get(receipt.messageId)! + 1 : 0;
    const ignored = blocked.get(userId);
    const after = (author: string) => {
      const list = byAuthor.get(author) ?? [];
      return list.length - lowerBound(list, start);
    };
    let unread = countsFrom[start]! - after(userId);
    for (const author of ignored ?? []) if (author !== userId) unread -= after(author);
    let latestUnread: MemberDigest['latestUnread'] = null;
    for (let i = window.length - 1; unread > 0 && i >= start; i--) {
      const m = window[i]!;
      if (m.counts && m.author !== userId && !ignored?.has(m.author)) {
        latestUnread = { id: m.id, author: m.author, text: m.text, at: m.at };
        break;
      }
    }
    digests.set(userId, { unread, lastMessage, latestUnread });
  }
  return digests;
}

/**
 * What the inbox may quote of each of the newest messages now (edited text,
 * or DELETED_QUOTE), by id: the notifier brings every chat notification's
 * body in line with it, read or not, so a deleted message's text does not
 * outlive it in an inbox.
 */
export function windowQuotes(doc: Y.Doc): Map<string, string> {
  return new Map(newestMessages(doc).map(windowMessage).map((m) => [m.id, quoteOf(m)]));
}
