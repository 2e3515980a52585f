import { createHash, randomUUID } from 'node:crypto';
import {
  DEFAULTS,
  appendMessage,
  conversationDocName,
  inboxDocName,
  conversationParts,
  findMessage,
  isAdmin,
  isService,
  messageToJSON,
  readReceipts,
  type ConversationListItem,
  type CreateConversationBody,
  type HistoryPage,
  type Identity,
  type Message,
  type SendMessageBody,
} from '@parley/schema';
import { ApiError } from '../http/ApiError';
import type { Storage } from '../storage/Storage';
import type { ServerWriter } from '../sync/ServerWriter';
import { conversationMirror } from '../sync/DocumentInitializer';
import { setConversationSummary } from './notifications/inboxWrites';
import { digestAll } from './notifications/conversationDigest';

/** A direct conversation's id is a digest of its two members, so get-or-create needs no lookup race. */
export function directConversationId(a: string, b: string): string {
  const [first, second] = [a, b].sort();
  return `dm-${createHash('sha256').update(`${first}\n${second}`).digest('hex').slice(0, 40)}`;
}

export interface ConversationsDeps {
  storage: Storage;
  writer: ServerWriter;
  /** Closes a user's open connections to a document (after they lose access). */
  disconnect(documentName: string, userId: string): void;
}

/** Conversations as the HTTP API sees them. SQLite holds membership; the document mirrors it. */
export class Conversations {
  constructor(private readonly deps: ConversationsDeps) {}

  async create(caller: Identity, body: CreateConversationBody): Promise<{ id: string; created: boolean }> {
    const { storage } = this.deps;
    const byService = isService(caller);
    const members = [...new Set(byService ? body.members : [caller.userId, ...body.members])];
    const kind = body.kind ?? (members.length === 2 && !body.title && !body.ref ? 'direct' : 'group');
    if (kind === 'direct' && members.length !== 2) throw ApiError.badRequest('a direct conversation has exactly two members');
    const owner = byService ? members[0]! : caller.userId;
    const now = Date.now();
    const id = kind === 'direct' ? directConversationId(members[0]!, members[1]!) : (body.id ?? `c-${randomUUID()}`);
    if (!byService && !isAdmin(caller) && !(await storage.conversations.get(id))) await this.requireOwnedBelowLimit(caller.userId);
    const result = await storage.conversations.create({
      id,
      kind,
      title: body.title ?? '',
      createdBy: caller.userId,
      createdAt: now,
      ref: body.ref ?? null,
      directKey: kind === 'direct' ? id : null,
      members: members.map((userId) => ({ userId, role: userId === owner ? 'owner' : 'member', joinedAt: now })),
    });
    if (!result.created && kind !== 'direct') throw ApiError.conflict(`conversation ${id} already exists`);
    await this.rememberNamed(caller, members);
    if (result.created) await this.mirror(result.id);
    return result;
  }

  async list(caller: Identity): Promise<ConversationListItem[]> {
    const records = await this.deps.storage.conversations.listFor(caller.userId);
    const items: ConversationListItem[] = [];
    for (const record of records) {
      const members = await this.deps.storage.conversations.members(record.id);
      // The same digest the inbox summaries use: the newest messages only, not the whole history.
      const summary = await this.deps.writer.read(conversationDocName(record.id), (doc) => {
        const { lastMessage, unread } = digestAll(doc, [caller.userId], readReceipts(doc)).get(caller.userId)!;
        return { lastMessage, unread };
      });
      items.push({ id: record.id, title: record.title, kind: record.kind, members: members.map((m) => m.userId), ...summary });
    }
    return items.sort((a, b) => (b.lastMessage?.at ?? 0) - (a.lastMessage?.at ?? 0));
  }

  async addMember(caller: Identity, conversationId: string, userId: string, role: 'owner' | 'member' = 'member'): Promise<boolean> {
    await this.requireManager(caller, conversationId);
    const { storage } = this.deps;
    if (!(await storage.conversations.role(conversationId, userId)) && (await storage.conversations.memberCount(conversationId)) >= DEFAULTS.membersMaxPerConversation) {
      throw ApiError.limitReached(`a conversation has at most ${DEFAULTS.membersMaxPerConversation} members`);
    }
    const added = await storage.conversations.addMember(conversationId, { userId, role, joinedAt: Date.now() });
    await this.rememberNamed(caller, [userId]);
    if (added) await this.mirror(conversationId);
    return added;
  }

  async removeMember(caller: Identity, conversationId: string, userId: string): Promise<void> {
    if (caller.userId !== userId) await this.requireManager(caller, conversationId);
    else await this.requireMember(caller, conversationId);
    if (!(await this.deps.storage.conversations.removeMember(conversationId, userId))) throw ApiError.notFound(`${userId} is not a member`);
    await this.mirror(conversationId);
    this.deps.disconnect(conversationDocName(conversationId), userId);
    // Their inbox stops listing it; the chat notifier only writes to current members.
    await this.deps.writer.write(inboxDocName(userId), (inbox) => setConversationSummary(inbox, conversationId, null));
  }

  async history(caller: Identity, conversationId: string, before: string | undefined, limit: number = DEFAULTS.historyPageDefault): Promise<HistoryPage> {
    await this.requireReader(caller, conversationId);
    return this.deps.writer.read(conversationDocName(conversationId), (doc) => {
      const array = conversationParts(doc).messages;
      let end = array.length;
      if (before !== undefined) {
        const found = findMessage(doc, before);
        if (!found) throw ApiError.badRequest(`before: no message ${before} in this conversation`);
        end = found.index;
      }
      const start = Math.max(0, end - limit);
      const messages: Message[] = [];
      for (let i = end - 1; i >= start; i--) messages.push(messageToJSON(array.get(i)));
      return { messages, nextCursor: start > 0 ? messages[messages.length - 1]!.id : null };
    });
  }

  async send(caller: Identity, conversationId: string, body: SendMessageBody): Promise<{ message: Message; created: boolean }> {
    await this.requireMember(caller, conversationId);
    const id = body.id ?? randomUUID();
    return this.deps.writer.write(conversationDocName(conversationId), (doc) => {
      const existing = findMessage(doc, id);
      if (existing) {
        const message = messageToJSON(existing.map);
        if (message.author !== caller.userId) throw ApiError.conflict(`message id ${id} is taken`);
        return { message, created: false };
      }
      appendMessage(doc, { id, author: caller.userId, text: body.text, replyTo: body.replyTo, attachments: body.attachments });
      return { message: messageToJSON(findMessage(doc, id)!.map), created: true };
    });
  }

  /**
   * Users the server "knows" (announcements to everyone reach them): whoever
   * authenticated, and whoever a service or an admin names. Ids a user types
   * into a conversation are not known until that user signs in, so nobody can
   * make one announcement cost tens of thousands of invented inboxes.
   */
  private async rememberNamed(caller: Identity, userIds: readonly string[]): Promise<void> {
    const trusted = isService(caller) || isAdmin(caller);
    for (const userId of userIds) if (trusted || userId === caller.userId) await this.deps.storage.users.remember(userId);
  }

  private async requireOwnedBelowLimit(userId: string): Promise<void> {
    if ((await this.deps.storage.conversations.ownedCount(userId)) >= DEFAULTS.conversationsOwnedMaxPerUser) {
      throw ApiError.limitReached(`a user creates at most ${DEFAULTS.conversationsOwnedMaxPerUser} conversations; leave or hand over some first`);
    }
  }

  private async mirror(conversationId: string): Promise<void> {
    const change = await conversationMirror(this.deps.storage, conversationId);
    await this.deps.writer.write(conversationDocName(conversationId), change);
  }

  private async exists(conversationId: string): Promise<void> {
    if (!(await this.deps.storage.conversations.get(conversationId))) throw ApiError.notFound(`no conversation ${conversationId}`);
  }

  /** Members read; admins and services read any conversation. */
  private async requireReader(caller: Identity, conversationId: string): Promise<void> {
    await this.exists(conversationId);
    if (isAdmin(caller) || isService(caller)) return;
    await this.requireMember(caller, conversationId);
  }

  private async requireMember(caller: Identity, conversationId: string): Promise<void> {
    await this.exists(conversationId);
    if (!(await this.deps.storage.conversations.role(conversationId, caller.userId))) throw ApiError.forbidden('you are not a member of this conversation');
  }

  private async requireManager(caller: Identity, conversationId: string): Promise<void> {
    await this.exists(conversationId);
    if (isAdmin(caller) || isService(caller)) return;
    const role = await this.deps.storage.conversations.role(conversationId, caller.userId);
    if (role !== 'owner') throw ApiError.forbidden('only an owner, an admin or a service may manage members');
  }
}
