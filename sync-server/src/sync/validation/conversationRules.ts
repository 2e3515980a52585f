import * as Y from 'yjs';
import { ConversationKeys, DEFAULTS, MessageFields, ModeratorFields, UpdateRejection, isId, type MessageField } from '@parley/schema';
import { refusal, type Refusal } from './Refusal';
import type { Place, PlaceResolver } from './PlaceResolver';
import type { Writer } from './Writer';
import { mentionsRefusal } from './mentionRules';
import { entryValue, isDeletedContent, isMapContent, isPlainValue, isReadReceipt, isText, isTimestamp } from './values';
import type { DocumentRules } from './DocumentRules';
import { messageIds } from './MessageIds';
import { keysAfter, newKeysPerMap, overLimit } from './entryLimits';
import { attachmentProblem, type UploadLookup } from './attachmentRefs';

/** What the rules of one conversation need to know besides the document: which conversation, and its uploads. */
export interface ConversationFacts {
  conversationId: string;
  upload: UploadLookup;
}

/** Fields fixed once a message exists. */
const IMMUTABLE: readonly MessageField[] = ['id', 'author', 'kind', 'createdAt', 'replyTo', 'reactions'];
/** Fields a new message must carry (the schema's `buildMessage` writes them all in one transaction). */
const REQUIRED: readonly MessageField[] = ['id', 'author', 'kind', 'text', 'createdAt', 'reactions'];
const CLIENT_KINDS = new Set(['text', 'image', 'file']);

type Container = 'root' | 'message' | 'reactions' | 'other';

function containerKind(place: Place, resolver: PlaceResolver): Container {
  if (!place.container) return 'root';
  const outer = resolver.placeOf(place.container);
  if (!('root' in outer) || outer.root !== ConversationKeys.messages) return 'other';
  if (!outer.container) return 'message';
  if (outer.sub === 'reactions' && containerKind(outer, resolver) === 'message') return 'reactions';
  return 'other';
}

/** The author of a stored message, read from the document; a new message's author is checked at creation. */
function storedAuthor(message: Y.Item): unknown {
  const content = message.content;
  return content instanceof Y.ContentType && content.type instanceof Y.Map ? content.type.get('author') : undefined;
}

function checkFieldValue(field: MessageField, item: Y.Item, writer: Writer, resolver: PlaceResolver, facts: ConversationFacts): Refusal | null {
  if (isDeletedContent(item)) return null;
  if (field === 'reactions') return isMapContent(item) ? null : refusal(UpdateRejection.invalidMessage, 'reactions must be a map');
  if (!isPlainValue(item)) return refusal(UpdateRejection.invalidMessage, `${field} must be a plain value`);
  const value = entryValue(item);
  switch (field) {
    case 'id':
    case 'replyTo':
      return isId(value) ? null : refusal(UpdateRejection.invalidMessage, `${field} must be an id`);
    case 'author':
      return value === writer.userId ? null : refusal(UpdateRejection.forgedAuthor, `author must be ${writer.userId}`);
    case 'kind':
      if (value === 'system') return refusal(UpdateRejection.serverOnly, 'system messages come from the server');
      return CLIENT_KINDS.has(value as string) ? null : refusal(UpdateRejection.invalidMessage, 'unknown message kind');
    case 'text':
      if (typeof value !== 'string') return refusal(UpdateRejection.invalidMessage, 'text must be a string');
      return isText(value) ? null : refusal(UpdateRejection.textTooLong, 'text is longer than 16 KiB');
    case 'createdAt':
    case 'editedAt':
    case 'deletedAt':
      return isTimestamp(value) ? null : refusal(UpdateRejection.invalidMessage, `${field} must be a ms epoch from 2020 to at most 5 minutes ahead`);
    case 'attachments': {
      const problem = attachmentProblem(value, facts.conversationId, facts.upload);
      return problem ? refusal(UpdateRejection.invalidMessage, problem) : null;
    }
    case 'mentions':
      return mentionsRefusal(value, resolver.doc);
  }
}

/** An admin's change to someone else's message may only be the soft deletion. */
function isModeration(field: MessageField, item: Y.Item): boolean {
  if (!ModeratorFields.includes(field)) return false;
  if (isDeletedContent(item)) return true;
  const value = entryValue(item);
  if (field === 'deletedAt') return isTimestamp(value);
  if (field === 'text') return value === '';
  return Array.isArray(value) && value.length === 0;
}

function checkMessageField(message: Y.Item, field: string | null, item: Y.Item | null, writer: Writer, resolver: PlaceResolver, facts: ConversationFacts): Refusal | null {
  if (field === null || !(MessageFields as readonly string[]).includes(field)) return refusal(UpdateRejection.unknownField, `unknown message field ${field}`);
  const name = field as MessageField;
  const isNew = !resolver.isStored(message);
  const author = isNew ? writer.userId : storedAuthor(message);
  if (author === writer.userId) {
    if (!isNew && IMMUTABLE.includes(name)) return refusal(UpdateRejection.invalidMessage, `${name} cannot change`);
    return item ? checkFieldValue(name, item, writer, resolver, facts) : null;
  }
  if (writer.admin && !isNew && (item ? isModeration(name, item) : ModeratorFields.includes(name))) return null;
  return refusal(UpdateRejection.notAuthor, 'only the author changes a message');
}

function checkReaction(sub: string | null, item: Y.Item | null, writer: Writer): Refusal | null {
  const prefix = `${writer.userId}:`;
  if (!sub?.startsWith(prefix) || sub.length === prefix.length || sub.length - prefix.length > 32) {
    return refusal(UpdateRejection.foreignKey, 'a user changes only their own reactions');
  }
  if (item && !isDeletedContent(item) && !(isPlainValue(item) && isTimestamp(entryValue(item)))) {
    return refusal(UpdateRejection.invalidMessage, 'a reaction holds a ms epoch (2020 to now)');
  }
  return null;
}

/** A message holds a bounded number of reactions, and of each user's (only own keys are written: see checkReaction). */
function checkReactionCount(newItems: Y.Item[], writer: Writer, resolver: PlaceResolver): Refusal | null {
  const own = `${writer.userId}:`;
  for (const [map, added] of newKeysPerMap(newItems, resolver, (place) => containerKind(place, resolver) === 'reactions')) {
    const keys = keysAfter(map, added);
    const verdict =
      overLimit(keys, DEFAULTS.reactionsMaxPerUserPerMessage, 'reactions per user on a message', (key) => key.startsWith(own)) ??
      overLimit(keys, DEFAULTS.reactionsMaxPerMessage, 'reactions on a message');
    if (verdict) return verdict;
  }
  return null;
}

function checkRead(place: Place, item: Y.Item | null, writer: Writer): Refusal | null {
  if (place.container || place.sub !== writer.userId) return refusal(UpdateRejection.foreignKey, 'a user writes only their own read receipt');
  if (item && !isDeletedContent(item) && !(isPlainValue(item) && isReadReceipt(entryValue(item)))) {
    return refusal(UpdateRejection.invalidMessage, 'a read receipt is {messageId, at} (at: 2020 to now)');
  }
  return null;
}

/** The rules of CONTRACT section 3 for `conversation:<id>`, item by item. */
export const conversationRules = (facts: ConversationFacts): DocumentRules => ({
  roots: new Set(Object.values(ConversationKeys)),
  insert(item, place, writer, resolver) {
    switch (place.root) {
      case ConversationKeys.meta:
      case ConversationKeys.members:
      case ConversationKeys.outside:
        return refusal(UpdateRejection.serverOnly, `${place.root} is written by the server only`);
      case ConversationKeys.reads:
        return checkRead(place, item, writer);
      case ConversationKeys.messages:
        break;
      default:
        return refusal(UpdateRejection.unknownField, `unknown root ${place.root}`);
    }
    switch (containerKind(place, resolver)) {
      case 'root':
        if (place.sub !== null) return refusal(UpdateRejection.invalidMessage, 'messages is an array');
        return isMapContent(item) || isDeletedContent(item) ? null : refusal(UpdateRejection.invalidMessage, 'a message is a map');
      case 'message':
        return checkMessageField(place.container!, place.sub, item, writer, resolver, facts);
      case 'reactions':
        return checkReaction(place.sub, item, writer);
      default:
        return refusal(UpdateRejection.invalidMessage, 'nothing nests there');
    }
  },

  delete(_item, place, writer, resolver) {
    switch (place.root) {
      case ConversationKeys.reads:
        return checkRead(place, null, writer);
      case ConversationKeys.messages:
        break;
      default:
        return refusal(UpdateRejection.serverOnly, `${place.root} is written by the server only`);
    }
    switch (containerKind(place, resolver)) {
      case 'root':
        return refusal(UpdateRejection.hardDelete, 'messages are soft-deleted (deletedAt), never removed');
      case 'message':
        return checkMessageField(place.container!, place.sub, null, writer, resolver, facts);
      case 'reactions':
        return checkReaction(place.sub, null, writer);
      default:
        return refusal(UpdateRejection.invalidMessage, 'nothing nests there');
    }
  },

  complete(newItems, writer, resolver) {
    const reactions = checkReactionCount(newItems, writer, resolver);
    if (reactions) return reactions;
    // Every new message arrives whole, with the writer as author, under an id no other message has.
    const fields = new Map<Y.Item, Set<string>>();
    const newIds = new Map<unknown, Y.Item>();
    for (const item of newItems) {
      const place = resolver.placeOf(item);
      if (!('root' in place) || place.root !== ConversationKeys.messages) continue;
      if (!place.container) {
        if (isMapContent(item)) fields.set(item, fields.get(item) ?? new Set());
      }
      else if (place.sub && !resolver.isStored(place.container!) && containerKind(place, resolver) === 'message') {
        let set = fields.get(place.container);
        if (!set) fields.set(place.container, (set = new Set()));
        set.add(place.sub);
        if (place.sub === 'id' && !isDeletedContent(item)) {
          const id = entryValue(item);
          const other = newIds.get(id);
          if (other && other !== place.container) return refusal(UpdateRejection.duplicateId, `two new messages with id ${String(id)}`);
          newIds.set(id, place.container);
        }
      }
    }
    if (newIds.size > 0) {
      resolver.claimedMessageIds = [...newIds.keys()].filter((id): id is string => typeof id === 'string');
      const stored = messageIds(resolver.doc);
      for (const id of newIds.keys()) if (stored.has(id as string)) return refusal(UpdateRejection.duplicateId, `message id ${String(id)} is taken in this conversation`);
    }
    for (const [message, present] of fields) {
      if (isDeletedContent(message)) continue;
      const missing = REQUIRED.filter((f) => !present.has(f));
      if (missing.length) return refusal(UpdateRejection.invalidMessage, `a new message needs ${missing.join(', ')}`);
    }
    return null;
  },
});
