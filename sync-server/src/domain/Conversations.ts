import { createHash, randomUUID } from 'node:crypto';
import {
  DEFAULTS,
  HttpErrorCode,
  UpdateRejection,
  appendMessage,
  conversationDocName,
  inboxDocName,
  findMessage,
  DerivedIdPrefix,
  isDerivedId,
  jobConversationId,
  isAdmin,
  isService,
  isId,
  messageToJSON,
  type ConversationKind,
  type ConversationListItem,
  type EntityRef,
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
import { messageIds } from '../sync/validation/MessageIds';
import { attachmentProblem } from '../sync/validation/attachmentRefs';
import { uploadLookup } from './attachments/uploadLookup';
import { setConversationSummary } from './notifications/inboxWrites';
import { historyCursor, parseHistoryBefore } from './history/historyCursor';
import { publicMessage } from './history/publicMessage';
import type { Blocks } from './moderation/Blocks';

/**
 * Of the users a caller names, those the server may "know" (announcements to
 * everyone reach them): whoever authenticated, and whoever a service or an
 * admin names. Ids a user types into a conversation are not known until that
 * user signs in, so nobody can make one announcement cost tens of thousands
 * of invented inboxes.
 */
function knownOf(caller: Identity, userIds: readonly string[]): string[] {
  const trusted = isService(caller) || isAdmin(caller);
  return userIds.filter((userId) => trusted || userId === caller.userId);
}

/** A direct conversation's id is a digest of its two members, so get-or-create needs no lookup race. */
export function directConversationId(a: string, b: string): string {
  const [first, second] = [a, b].sort();
  return `${DerivedIdPrefix.direct}${createHash('sha256').update(`${first}\n${second}`).digest('hex').slice(0, 40)}`;
}

/** Who `createdBy` names for a job's conversation: the business events made it. */
const JOB_CREATOR = 'parley-events';

export interface ConversationsDeps {
  storage: Storage;
  writer: ServerWriter;
  /** Closes a user's open connections to a document (after they lose access). */
  disconnect(documentName: string, userId: string): void;
  /** Who blocks whom: a blocked user cannot start a direct conversation with the blocker (issue 14). */
  blocks: Pick<Blocks, 'requireMayStartDirect'>;
}

/** Conversations as the HTTP API sees them. SQLite holds membership; the document mirrors it. */
export class Conversations {
  constructor(private readonly deps: ConversationsDeps) {}

  async create(caller: Identity, body: CreateConversationBody): Promise<{ id: string; created: boolean }> {
    const byService = isService(caller);
    const members = [...new Set(byService ? body.members : [caller.userId, ...body.members])];
    const chosen = body.id !== undefined;
    const kind = body.kind ?? (members.length === 2 && !body.title && !body.ref && !chosen ? 'direct' : 'group');
    if (kind === 'direct' && members.length !== 2) throw ApiError.badRequest('a direct conversation has exactly two members');
    if (chosen) this.checkChosenId(caller, body.id!, kind);
    const owner = byService ? members[0]! : caller.userId;
    const id = kind === 'direct' ? directConversationId(members[0]!, members[1]!) : (body.id ?? `c-${randomUUID()}`);
    // A user starting (or reopening) a direct chat with someone who blocks them: refused, existing or not.
    if (kind === 'direct' && !byService && !isAdmin(caller)) await this.deps.blocks.requireMayStartDirect(caller, members.find((m) => m !== caller.userId)!);
    if (!byService && !isAdmin(caller) && !(await this.deps.storage.conversations.get(id))) await this.requireOwnedBelowLimit(caller.userId);
    const result = await this.insert({ id, kind, title: body.title ?? '', createdBy: caller.userId, ref: body.ref ?? null, members, owner, known: knownOf(caller, members) });
    if (!result.created) {
      if (kind !== 'direct') throw ApiError.conflict(`conversation ${id} already exists`);
      await this.requireDirectOf(result.id, members[0]!, members[1]!);
    }
    return result;
  }

  /**
   * The conversation of a job, made on first use with `owner` as its owner.
   * Its id is derived from the job, so whatever sits there must be that job's
   * room: anything else is refused (an error), never reused.
   */
  async openJobConversation(jobId: string, owner: string, title: string): Promise<string> {
    const id = jobConversationId(jobId);
    const ref = { type: 'job', id: jobId };
    const result = await this.insert({ id, kind: 'job', title, createdBy: JOB_CREATOR, ref, members: [owner], owner, known: [owner] });
    if (!result.created && !(await this.isJobConversation(jobId))) {
      throw new Error(`conversation ${id} exists but is not the conversation of job ${jobId}; refusing to reuse it`);
    }
    return id;
  }

  /** True when the job's conversation exists and is that job's (kind `job`, `ref` the job). */
  async isJobConversation(jobId: string): Promise<boolean> {
    const record = await this.deps.storage.conversations.get(jobConversationId(jobId));
    return record?.kind === 'job' && record.ref?.type === 'job' && record.ref.id === jobId;
  }

  /** Only a service chooses an id, and never one of the shapes the server derives. */
  private checkChosenId(caller: Identity, id: string, kind: string): void {
    if (!isService(caller)) throw ApiError.forbidden('only a service may choose a conversation id');
    if (kind === 'direct') throw ApiError.badRequest("a direct conversation's id is derived from its two members; give no id");
    if (isDerivedId(id)) {
      throw ApiError.badRequest(`ids starting with ${Object.values(DerivedIdPrefix).join(' or ')} are derived by the server and cannot be chosen`);
    }
  }

  /** A direct id found taken must hold the direct conversation of exactly that pair (or one of them, if the other left). */
  private async requireDirectOf(id: string, a: string, b: string): Promise<void> {
    const record = await this.deps.storage.conversations.get(id);
    const members = await this.deps.storage.conversations.members(id);
    const ok = record?.kind === 'direct' && members.every((m) => m.userId === a || m.userId === b);
    if (!ok) throw ApiError.conflict(`conversation ${id} is not the direct conversation of ${a} and ${b}; it cannot be reused`);
  }

  private async insert(c: { id: string; kind: ConversationKind; title: string; createdBy: string; ref: EntityRef | null; members: string[]; owner: string; known: string[] }) {
    const { storage } = this.deps;
    const now = Date.now();
    const result = await storage.conversations.create({
      id: c.id,
      kind: c.kind,
      title: c.title,
      createdBy: c.createdBy,
      createdAt: now,
      ref: c.ref,
      directKey: c.kind === 'direct' ? c.id : null,
      members: c.members.map((userId) => ({ userId, role: userId === c.owner ? 'owner' : 'member', joinedAt: now })),
    });
    if (!result.created) return result;
    // Its index starts with it: nothing to build from a stored document later.
    await storage.messages.markBuilt(result.id, now);
    for (const userId of c.known) await storage.users.remember(userId);
    await this.mirror(result.id);
    return result;
  }

  /**
   * The caller's conversations with last message and unread count, from the
   * message index: no document is opened, and the count is exact.
   */
  async list(caller: Identity): Promise<ConversationListItem[]> {
    const { conversations, messages, blocks } = this.deps.storage;
    const records = await conversations.listFor(caller.userId);
    // Messages by users the caller blocks count as unread nowhere (issue 14), here as in the inbox.
    const ignored = (await blocks.list(caller.userId)).map((b) => b.blocked);
    const items: ConversationListItem[] = [];
    for (const record of records) {
      const members = await conversations.members(record.id);
      const last = await messages.last(record.id);
      const lastMessage = last ? { author: last.author, text: last.text, at: last.createdAt } : null;
      const unread = await messages.unread(record.id, caller.userId, ignored);
      items.push({ id: record.id, title: record.title, kind: record.kind, members: members.map((m) => m.userId), lastMessage, unread });
    }
    return items.sort((a, b) => (b.lastMessage?.at ?? 0) - (a.lastMessage?.at ?? 0));
  }

  async addMember(caller: Identity, conversationId: string, userId: string, role: 'owner' | 'member' = 'member'): Promise<boolean> {
    await this.requireManager(caller, conversationId);
    await this.requireNotStrangerToDirect(conversationId, userId);
    const { storage } = this.deps;
    if (!(await storage.conversations.role(conversationId, userId)) && (await storage.conversations.memberCount(conversationId)) >= DEFAULTS.membersMaxPerConversation) {
      throw ApiError.limitReached(`a conversation has at most ${DEFAULTS.membersMaxPerConversation} members`);
    }
    const added = await storage.conversations.addMember(conversationId, { userId, role, joinedAt: Date.now() });
    for (const known of knownOf(caller, [userId])) await storage.users.remember(known);
    if (added) await this.mirror(conversationId);
    return added;
  }

  /** Owners, admins and services rename a group (a direct chat is named after its two members). */
  async rename(caller: Identity, conversationId: string, title: string): Promise<void> {
    await this.requireManager(caller, conversationId);
    if ((await this.deps.storage.conversations.get(conversationId))?.kind === 'direct') throw ApiError.badRequest('a direct conversation has no title of its own');
    await this.deps.storage.conversations.setTitle(conversationId, title);
    await this.mirror(conversationId);
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

  /**
   * A history page from the message index, newest first: O(page) at any
   * depth, edits and deletions folded in (the row is current). `before` is a
   * `nextCursor` or a message id; either must be known here (else 400).
   */
  async history(caller: Identity, conversationId: string, before: string | undefined, limit: number = DEFAULTS.historyPageDefault): Promise<HistoryPage> {
    await this.requireReader(caller, conversationId);
    const beforeSeq = before === undefined ? null : await this.seqOf(conversationId, before);
    const page = await this.deps.storage.messages.page(conversationId, beforeSeq, limit);
    const oldest = page.messages.at(-1);
    return { messages: page.messages.map(publicMessage), nextCursor: page.more && oldest ? historyCursor(oldest.seq) : null };
  }

  /** The seq a page starts before: a cursor's own (the message must exist), or that of the message named. */
  private async seqOf(conversationId: string, before: string): Promise<number> {
    const parsed = parseHistoryBefore(before, isId);
    if (!parsed) throw ApiError.badRequest('before: neither a cursor from this API nor a message id');
    if ('messageId' in parsed) {
      const message = await this.deps.storage.messages.get(conversationId, parsed.messageId);
      if (!message) throw ApiError.badRequest(`before: no message ${parsed.messageId} in this conversation`);
      return message.seq;
    }
    const at = (await this.deps.storage.messages.page(conversationId, parsed.seq + 1, 1)).messages[0];
    if (at?.seq !== parsed.seq) throw ApiError.badRequest('before: unknown cursor for this conversation');
    return parsed.seq;
  }

  async send(caller: Identity, conversationId: string, body: SendMessageBody): Promise<{ message: Message; created: boolean }> {
    await this.requireMember(caller, conversationId);
    if (body.mentions?.length) await this.requireMembers(conversationId, body.mentions);
    // The same rule as a socket update's: only this conversation's uploads, as the upload call answered them.
    const problem = body.attachments?.length ? attachmentProblem(body.attachments, conversationId, uploadLookup(this.deps.storage.attachments)) : null;
    if (problem) throw new ApiError(400, HttpErrorCode.invalidAttachment, problem);
    const id = body.id ?? randomUUID();
    return this.deps.writer.write(conversationDocName(conversationId), (doc) => {
      // The id index answers the common case (a new id) without scanning the history.
      const existing = messageIds(doc).has(id) ? findMessage(doc, id) : null;
      if (existing) {
        const message = messageToJSON(existing.map);
        if (message.author !== caller.userId) throw ApiError.conflict(`message id ${id} is taken`);
        return { message, created: false };
      }
      appendMessage(doc, { id, author: caller.userId, text: body.text, replyTo: body.replyTo, attachments: body.attachments, mentions: body.mentions });
      return { message: messageToJSON(findMessage(doc, id)!.map), created: true };
    });
  }

  /** Mentions name members only (the same rule as the update validator's, for the REST send, which writes as the server). */
  private async requireMembers(conversationId: string, userIds: string[]): Promise<void> {
    for (const userId of userIds) {
      if (!(await this.deps.storage.conversations.role(conversationId, userId))) {
        throw new ApiError(400, HttpErrorCode.validation, `mentions: ${userId} is not a member of this conversation`, { reason: UpdateRejection.invalidMention });
      }
    }
  }

  /** A direct conversation only ever holds its two users: adding anyone else would turn a private chat into a room. */
  private async requireNotStrangerToDirect(conversationId: string, userId: string): Promise<void> {
    const { conversations } = this.deps.storage;
    if ((await conversations.get(conversationId))?.kind !== 'direct') return;
    const members = await conversations.members(conversationId);
    const pair = members.some((m) => m.userId === userId || directConversationId(m.userId, userId) === conversationId);
    if (!pair) throw ApiError.badRequest('a direct conversation has exactly two members; nobody else can be added');
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
    if (role !== 'owner') throw ApiError.forbidden('only an owner, an admin or a service may manage this conversation');
  }
}
