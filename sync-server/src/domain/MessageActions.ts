import type * as Y from 'yjs';
import {
  conversationDocName,
  conversationParts,
  findMessage,
  isAdmin,
  messageToJSON,
  reactionKey,
  type Identity,
  type Message,
  type ReadReceipt,
} from '@parley/schema';
import { ApiError } from '../http/ApiError';
import type { IndexedMessage, Storage } from '../storage/Storage';
import { publicMessage } from './history/publicMessage';
import { isRefusal } from '../sync/validation/Refusal';
import { isRenewedClosing } from '../sync/renewal/RenewedClosing';
import type { Writer } from '../sync/validation/Writer';

/** Writes a user's change into a document judged by the same rules as their WebSocket updates (see UserWrites); rejects with a Refusal. */
export interface ValidatedWrites {
  as<T>(documentName: string, writer: Writer, change: (doc: Y.Doc) => T): Promise<T>;
}

/** Changes a message that has left the live document, judged by the same rules (see ArchivedWrites); rejects with a Refusal. */
export interface ArchivedChanges {
  as(documentName: string, writer: Writer, message: IndexedMessage, mutate: (map: Y.Map<unknown>) => void): Promise<Message>;
}

/**
 * The REST twins of what a member does to messages in the document (CONTRACT
 * section 4): edit, soft delete, own reactions, read receipt. The message is
 * found through the index first (unknown: 404; the caller's rights are
 * answered from it with a clear error), then the change is built as the
 * caller's own update and judged by the update validator before anything is
 * applied, so HTTP and WebSocket obey one set of rules and take one write path.
 */
export class MessageActions {
  constructor(private readonly deps: { storage: Storage; writes: ValidatedWrites; archived: ArchivedChanges }) {}

  /** One message from the index, as the history API shows it (members only; unknown: 404). */
  async get(caller: Identity, conversationId: string, messageId: string): Promise<Message> {
    return publicMessage(await this.find(caller, conversationId, messageId));
  }

  /** `mentions`, when given, replaces the message's (the validator checks they are members; new ones are notified). */
  async edit(caller: Identity, conversationId: string, messageId: string, text: string, mentions?: string[]): Promise<Message> {
    const indexed = await this.find(caller, conversationId, messageId);
    if (indexed.author !== caller.userId) throw ApiError.forbidden('only the author edits a message');
    if (indexed.deletedAt !== undefined) throw ApiError.conflict('the message is deleted; it cannot be edited');
    const sameMentions = mentions === undefined || JSON.stringify(mentions) === JSON.stringify(indexed.mentions ?? []);
    if (indexed.text === text && sameMentions) return publicMessage(indexed);
    return this.change(caller, indexed, (map) => {
      if (indexed.text !== text) map.set('text', text);
      if (!sameMentions) map.set('mentions', mentions);
      map.set('editedAt', Date.now());
    });
  }

  async softDelete(caller: Identity, conversationId: string, messageId: string): Promise<Message> {
    const indexed = await this.find(caller, conversationId, messageId);
    if (indexed.author !== caller.userId && !isAdmin(caller)) throw ApiError.forbidden('only the author (or an admin) deletes a message');
    if (indexed.deletedAt !== undefined) return publicMessage(indexed);
    return this.change(caller, indexed, (map) => {
      map.set('text', '');
      if (map.has('attachments')) map.set('attachments', []);
      if (map.has('mentions')) map.set('mentions', []);
      map.set('deletedAt', Date.now());
    });
  }

  /** Sets (on) or removes the caller's own reaction; doing what is already so changes nothing. */
  async react(caller: Identity, conversationId: string, messageId: string, emoji: string, on: boolean): Promise<Message> {
    const indexed = await this.find(caller, conversationId, messageId);
    const key = reactionKey(caller.userId, emoji);
    if (key in indexed.reactions === on) return publicMessage(indexed);
    return this.change(caller, indexed, (map) => {
      const reactions = map.get('reactions') as Y.Map<number> | undefined;
      if (!reactions) throw ApiError.conflict('the message has no reactions map');
      if (on) reactions.set(key, Date.now());
      else reactions.delete(key);
    });
  }

  async read(caller: Identity, conversationId: string, messageId: string): Promise<ReadReceipt> {
    await this.find(caller, conversationId, messageId);
    const receipt = { messageId, at: Date.now() };
    const write = () => this.deps.writes.as(conversationDocName(conversationId), writerOf(caller), (doc) => conversationParts(doc).reads.set(caller.userId, receipt));
    await write()
      .catch((error: unknown) => (isRenewedClosing(error) ? write() : Promise.reject(error)))
      .catch(asApiError);
    return receipt;
  }

  /** The message from the index (members, and admins, who may open any conversation; unknown: 404). */
  private async find(caller: Identity, conversationId: string, messageId: string): Promise<IndexedMessage> {
    const { conversations, messages } = this.deps.storage;
    if (!(await conversations.get(conversationId))) throw ApiError.notFound(`no conversation ${conversationId}`);
    if (!isAdmin(caller) && !(await conversations.role(conversationId, caller.userId))) throw ApiError.forbidden('you are not a member of this conversation');
    const message = await messages.get(conversationId, messageId);
    if (!message) throw ApiError.notFound(`no message ${messageId} in this conversation`);
    return message;
  }

  /**
   * Changes the message as the caller where it lives: in the live document
   * while it is in the window, else in the message index (the bounded live
   * document, issue 9 item 2: ArchivedWrites), judged by the same rules
   * either way. A renewal that happens meanwhile is met by trying once more.
   */
  private async change(caller: Identity, indexed: IndexedMessage, mutate: (map: Y.Map<unknown>) => void): Promise<Message> {
    const documentName = conversationDocName(indexed.conversationId);
    const attempt = async () => {
      const live = await this.deps.writes.as(documentName, writerOf(caller), (doc) => {
        const found = findMessage(doc, indexed.id);
        if (!found) return null;
        doc.transact(() => mutate(found.map));
        return messageToJSON(found.map);
      });
      return live ?? (await this.deps.archived.as(documentName, writerOf(caller), indexed, mutate));
    };
    return attempt()
      .catch((error: unknown) => (isRenewedClosing(error) ? attempt() : Promise.reject(error)))
      .catch(asApiError);
  }
}

const writerOf = (caller: Identity): Writer => ({ userId: caller.userId, admin: isAdmin(caller) });

function asApiError(error: unknown): never {
  if (isRefusal(error)) throw ApiError.refused(error.reason, error.detail);
  throw error;
}
