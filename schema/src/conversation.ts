import * as Y from 'yjs';
import { z } from 'zod';
import { DEFAULTS } from './defaults';
import { Id } from './ids';

/** Root keys of a `conversation:<id>` document. */
export const ConversationKeys = {
  meta: 'meta',
  members: 'members',
  messages: 'messages',
  reads: 'reads',
  /**
   * Server only (issue 9): message id -> ms epoch (server clock) of the
   * latest change to that message made while it was outside the live window
   * (REST or the SDK's outbox), so open replicas learn of it live. Bounded
   * (`DEFAULTS.outsideChangesMax`); see outsideChanges.ts.
   */
  outside: 'outside',
} as const;

export const ConversationKind = z.enum(['direct', 'group', 'job']);
export type ConversationKind = z.infer<typeof ConversationKind>;

export const EntityRef = z.strictObject({ type: z.string().min(1).max(64), id: Id });
export type EntityRef = z.infer<typeof EntityRef>;

export interface ConversationMeta {
  id: string;
  title: string;
  kind: ConversationKind;
  createdAt: number;
  createdBy: string;
  ref?: EntityRef;
  /** How many times the live document was renewed (issue 9, item 2); absent before the first renewal. */
  epoch?: number;
}

export type MemberRole = 'owner' | 'member';
export interface Member {
  role: MemberRole;
  joinedAt: number;
}

export const MessageKind = z.enum(['text', 'image', 'file', 'system']);
export type MessageKind = z.infer<typeof MessageKind>;

export const Attachment = z.strictObject({
  url: z.string().max(2048),
  name: z.string().max(256),
  type: z.string().max(128),
  size: z.number().int().nonnegative(),
  width: z.number().int().positive().optional(),
  height: z.number().int().positive().optional(),
});
export type Attachment = z.infer<typeof Attachment>;

/** A message as plain data (what `messageToJSON` returns and the HTTP API sends). */
export interface Message {
  id: string;
  author: string;
  kind: MessageKind;
  text: string;
  createdAt: number;
  replyTo?: string;
  attachments?: Attachment[];
  editedAt?: number;
  deletedAt?: number;
  /** Member ids the author mentioned (each gets a `mention` notification); emptied by a soft deletion. */
  mentions?: string[];
  /** `<userId>:<emoji>` -> ms epoch. */
  reactions: Record<string, number>;
}

export interface ReadReceipt {
  messageId: string;
  at: number;
}

/** Fields a message map may hold; anything else is refused by the server. */
export const MessageFields = [
  'id',
  'author',
  'kind',
  'text',
  'createdAt',
  'replyTo',
  'attachments',
  'editedAt',
  'deletedAt',
  'reactions',
  'mentions',
] as const;
export type MessageField = (typeof MessageFields)[number];

/** Fields an admin may write on someone else's message: the soft deletion, nothing more. */
export const ModeratorFields: readonly MessageField[] = ['deletedAt', 'text', 'attachments', 'mentions'];

export const utf8Length = (text: string): number => new TextEncoder().encode(text).length;

export const conversationParts = (doc: Y.Doc) => ({
  meta: doc.getMap<unknown>(ConversationKeys.meta),
  members: doc.getMap<Member>(ConversationKeys.members),
  messages: doc.getArray<Y.Map<unknown>>(ConversationKeys.messages),
  reads: doc.getMap<ReadReceipt>(ConversationKeys.reads),
  outside: doc.getMap<number>(ConversationKeys.outside),
});

export function readMeta(doc: Y.Doc): ConversationMeta | null {
  const meta = conversationParts(doc).meta;
  if (!meta.has('id')) return null;
  return meta.toJSON() as ConversationMeta;
}

/** The live document's epoch (0 before its first renewal). */
export function readEpoch(doc: Y.Doc): number {
  const epoch = conversationParts(doc).meta.get('epoch');
  return typeof epoch === 'number' && Number.isInteger(epoch) && epoch >= 0 ? epoch : 0;
}

export function readMembers(doc: Y.Doc): Record<string, Member> {
  return conversationParts(doc).members.toJSON() as Record<string, Member>;
}

export function messageToJSON(map: Y.Map<unknown>): Message {
  const json = map.toJSON() as Partial<Message> & { reactions?: Record<string, number> };
  return {
    id: String(json.id ?? ''),
    author: String(json.author ?? ''),
    kind: (json.kind ?? 'text') as MessageKind,
    text: String(json.text ?? ''),
    createdAt: Number(json.createdAt ?? 0),
    ...(json.replyTo !== undefined && { replyTo: json.replyTo }),
    ...(json.attachments !== undefined && { attachments: json.attachments }),
    ...(json.editedAt !== undefined && { editedAt: json.editedAt }),
    ...(json.deletedAt !== undefined && { deletedAt: json.deletedAt }),
    ...(Array.isArray(json.mentions) && { mentions: json.mentions.filter((m): m is string => typeof m === 'string') }),
    // Any member's replica may hold anything here; readers get a map or nothing.
    reactions: typeof json.reactions === 'object' && json.reactions !== null && !Array.isArray(json.reactions) ? json.reactions : {},
  };
}

export function readMessages(doc: Y.Doc): Message[] {
  return conversationParts(doc).messages.toArray().map(messageToJSON);
}

export function findMessage(doc: Y.Doc, messageId: string): { index: number; map: Y.Map<unknown> } | null {
  const messages = conversationParts(doc).messages;
  // Newest messages are the ones people act on, so search from the end.
  for (let index = messages.length - 1; index >= 0; index--) {
    const map = messages.get(index);
    if (map.get('id') === messageId) return { index, map };
  }
  return null;
}

export interface NewMessage {
  id: string;
  author: string;
  text: string;
  kind?: MessageKind;
  createdAt?: number;
  replyTo?: string;
  attachments?: Attachment[];
  mentions?: string[];
}

/**
 * Builds a message map. The `reactions` map is created here, by the author,
 * so nobody else ever creates it concurrently (two replicas creating the same
 * nested map would lose one of them on merge).
 */
export function buildMessage(message: NewMessage): Y.Map<unknown> {
  const map = new Y.Map<unknown>();
  map.set('id', message.id);
  map.set('author', message.author);
  map.set('kind', message.kind ?? 'text');
  map.set('text', message.text);
  map.set('createdAt', message.createdAt ?? Date.now());
  if (message.replyTo !== undefined) map.set('replyTo', message.replyTo);
  if (message.attachments !== undefined) map.set('attachments', message.attachments);
  if (message.mentions !== undefined && message.mentions.length > 0) map.set('mentions', message.mentions);
  map.set('reactions', new Y.Map<number>());
  return map;
}

export function appendMessage(doc: Y.Doc, message: NewMessage): void {
  doc.transact(() => conversationParts(doc).messages.push([buildMessage(message)]));
}

export function editMessage(doc: Y.Doc, messageId: string, text: string, at = Date.now()): boolean {
  const found = findMessage(doc, messageId);
  if (!found || found.map.get('deletedAt') !== undefined) return false;
  doc.transact(() => {
    found.map.set('text', text);
    found.map.set('editedAt', at);
  });
  return true;
}

export function softDeleteMessage(doc: Y.Doc, messageId: string, at = Date.now()): boolean {
  const found = findMessage(doc, messageId);
  if (!found) return false;
  doc.transact(() => {
    found.map.set('text', '');
    if (found.map.has('attachments')) found.map.set('attachments', []);
    if (found.map.has('mentions')) found.map.set('mentions', []);
    found.map.set('deletedAt', at);
  });
  return true;
}

export const reactionKey = (userId: string, emoji: string): string => `${userId}:${emoji}`;

export function setReaction(doc: Y.Doc, messageId: string, userId: string, emoji: string, on: boolean, at = Date.now()): boolean {
  const found = findMessage(doc, messageId);
  const reactions = found?.map.get('reactions');
  if (!(reactions instanceof Y.Map)) return false;
  const key = reactionKey(userId, emoji);
  doc.transact(() => (on ? reactions.set(key, at) : reactions.delete(key)));
  return true;
}

/** Groups `<userId>:<emoji>` keys into emoji -> user ids. */
export function groupReactions(reactions: Record<string, number>): Record<string, string[]> {
  const grouped: Record<string, string[]> = {};
  for (const key of Object.keys(reactions)) {
    const colon = key.indexOf(':');
    if (colon < 0) continue;
    const emoji = key.slice(colon + 1);
    (grouped[emoji] ??= []).push(key.slice(0, colon));
  }
  return grouped;
}

export function setRead(doc: Y.Doc, userId: string, messageId: string, at = Date.now()): void {
  conversationParts(doc).reads.set(userId, { messageId, at });
}

export function readReceipts(doc: Y.Doc): Record<string, ReadReceipt> {
  return conversationParts(doc).reads.toJSON() as Record<string, ReadReceipt>;
}

/**
 * Messages by others after `userId`'s read receipt that are not deleted.
 * Display order is the array order; a receipt for an unknown message counts everything.
 */
export function unreadCount(messages: readonly Message[], userId: string, receipt: ReadReceipt | undefined): number {
  let start = 0;
  if (receipt) {
    const at = messages.findIndex((m) => m.id === receipt.messageId);
    if (at >= 0) start = at + 1;
  }
  let count = 0;
  for (let i = start; i < messages.length; i++) {
    const m = messages[i]!;
    if (m.author !== userId && m.deletedAt === undefined && m.kind !== 'system') count++;
  }
  return count;
}

/**
 * A message's `mentions` as the server accepts them: distinct ids, at most
 * `DEFAULTS.mentionsMaxPerMessage`. Whether each is a member is the server's
 * check (it knows the members when the update arrives).
 */
export const Mentions = z
  .array(Id)
  .max(DEFAULTS.mentionsMaxPerMessage)
  .refine((ids) => new Set(ids).size === ids.length, { message: 'a member is mentioned at most once' });

/** Checks a message's plain fields the way the server does. */
export const MessageText = z.string().refine((t) => utf8Length(t) <= DEFAULTS.messageTextMaxBytes, {
  message: `text is longer than ${DEFAULTS.messageTextMaxBytes} bytes`,
});
