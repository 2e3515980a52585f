import * as Y from 'yjs';
import {
  appendMessage,
  conversationParts,
  editMessage,
  findMessage,
  MessageText,
  messageToJSON,
  readMeta,
  readMembers,
  readReceipts,
  setReaction,
  setRead,
  softDeleteMessage,
  unreadCount,
  type Attachment,
  type ConversationMeta,
  type Member,
  type ReadReceipt,
} from '@parley/schema';
import { covers, itemId } from './AckVector';
import type { DocReplica } from './DocReplica';
import { Emitter } from './Emitter';
import { newId } from './ids';
import { awarenessUsers } from './awarenessUsers';
import type { MessageView } from './types';
import type { OutsideWindowChange } from './OutsideWindowOutbox';

export interface ConversationSnapshot {
  id: string;
  meta: ConversationMeta | null;
  members: Record<string, Member>;
  /** Display order, oldest first. */
  messages: MessageView[];
  reads: Record<string, ReadReceipt>;
  /** Other users typing right now. */
  typing: string[];
  /** Other users with this conversation open right now. */
  here: string[];
  unread: number;
  /** Own messages committed to IndexedDB that the server has not acknowledged (status `pending`). */
  pending: number;
  /** Own messages not yet committed to IndexedDB (status `saving`). */
  saving: number;
  lastMessage: MessageView | null;
  /** The first sync with the server on the current connection is done. */
  synced: boolean;
}

/**
 * The display order, the same on every device that holds the same messages:
 * by `createdAt` (the author's clock when the message was written, which the
 * server holds to at most 5 minutes ahead of its own), ties in the
 * document's array order (which Yjs makes the same on every replica, and
 * which keeps one author's messages of the same millisecond in the order
 * sent). The array order alone is not it: messages two replicas appended
 * while apart merge grouped by replica. A pending own message sorts like
 * any other.
 */
export function displayOrder(maps: Y.Map<unknown>[]): Y.Map<unknown>[] {
  const keyed = maps.map((map, index) => ({ map, index, at: Number(map.get('createdAt')) || 0 }));
  keyed.sort((a, b) => a.at - b.at || a.index - b.index);
  return keyed.map((k) => k.map);
}

/** How long a typing signal lasts without another keystroke. */
const TYPING_IDLE_MS = 4_000;

/** Typed operations and derived state over one `conversation:<id>` document. */
export class ConversationHandle extends Emitter<{ change: void }> {
  private version = 0;
  private cached: { version: number; snapshot: ConversationSnapshot } | null = null;
  /** The expensive part (messages and their states), recomputed only when content changed, not on awareness. */
  private content: { version: number; value: Pick<ConversationSnapshot, 'meta' | 'members' | 'messages' | 'reads' | 'unread' | 'pending' | 'saving' | 'lastMessage'> } | null = null;
  private typingTimer: ReturnType<typeof setTimeout> | null = null;
  private unsubscribe: () => void;

  constructor(
    readonly id: string,
    readonly replica: DocReplica,
    private readonly me: string,
    /** Changes of messages outside the live window go to the outbox, sent over REST (OutsideWindowOutbox; issue 9, item 2). */
    private readonly outside?: (messageId: string, change: OutsideWindowChange) => void,
  ) {
    super();
    this.unsubscribe = replica.on('change', () => {
      this.version++;
      this.emit('change', undefined);
    });
  }

  private get doc(): Y.Doc {
    return this.replica.doc;
  }

  snapshot(): ConversationSnapshot {
    if (this.cached?.version === this.version) return this.cached.snapshot;
    const snapshot = this.compute();
    this.cached = { version: this.version, snapshot };
    return snapshot;
  }

  /** Sends a message; returns its id at once (`saving`, then `pending` once in IndexedDB, `sent` once acknowledged). */
  send(text: string, options: { replyTo?: string; attachments?: Attachment[]; mentions?: string[]; id?: string } = {}): string {
    MessageText.parse(text);
    const { id = newId(), ...rest } = options;
    this.replica.write((doc) => appendMessage(doc, { id, author: this.me, text, ...rest }));
    this.setTyping(false);
    return id;
  }

  reply(messageId: string, text: string, options: { mentions?: string[] } = {}): string {
    return this.send(text, { replyTo: messageId, ...options });
  }

  /** The message is in the live window (this replica holds it). */
  holds(messageId: string): boolean {
    return findMessage(this.doc, messageId) !== null;
  }

  /** Edits an own message: in the live document, or over REST when it has left the window (the server judges it by the same rules). */
  edit(messageId: string, text: string): boolean {
    MessageText.parse(text);
    return this.replica.write((doc) => this.inWindowOr(doc, messageId, { op: 'edit', text }) ?? (this.isOwn(doc, messageId) && editMessage(doc, messageId, text))) ?? true;
  }

  /** Soft deletion of an own message: the entry stays, its text goes. */
  remove(messageId: string): boolean {
    return this.replica.write((doc) => this.inWindowOr(doc, messageId, { op: 'delete' }) ?? (this.isOwn(doc, messageId) && softDeleteMessage(doc, messageId))) ?? true;
  }

  react(messageId: string, emoji: string, on = true): boolean {
    return this.replica.write((doc) => this.inWindowOr(doc, messageId, { op: 'reaction', emoji, on }) ?? setReaction(doc, messageId, this.me, emoji, on)) ?? true;
  }

  /**
   * null when the message is in the live document (change it there); else
   * queues the change for the REST API and returns true. Decided when the
   * change is made, so one held during a rebuild finds the rebuilt window.
   */
  private inWindowOr(doc: Y.Doc, messageId: string, change: OutsideWindowChange): true | null {
    if (!this.outside || findMessage(doc, messageId)) return null;
    this.outside(messageId, change);
    return true;
  }

  toggleReaction(messageId: string, emoji: string): boolean {
    const reactions = findMessage(this.doc, messageId)?.map.get('reactions');
    const on = !(reactions instanceof Y.Map && reactions.has(`${this.me}:${emoji}`));
    return this.react(messageId, emoji, on);
  }

  /** Moves the own read receipt forward to `messageId` (default: the last message); never backward. */
  markRead(messageId?: string): boolean {
    return this.replica.write((doc) => this.moveReadReceipt(doc, messageId)) ?? true;
  }

  /** "Forward" and "last" are in display order (see displayOrder), the order the reader saw. */
  private moveReadReceipt(doc: Y.Doc, messageId: string | undefined): boolean {
    const ordered = this.snapshot().messages;
    const target = messageId ?? ordered.at(-1)?.id;
    if (!target || !findMessage(doc, target)) return false;
    const position = (id: string) => ordered.findIndex((m) => m.id === id);
    const current = readReceipts(doc)[this.me];
    if (current) {
      if (current.messageId === target) return false;
      if (position(current.messageId) >= position(target)) return false;
    }
    setRead(doc, this.me, target);
    return true;
  }

  /** Typing on/off; `on` turns itself off after a few idle seconds. */
  setTyping(on: boolean): void {
    if (this.typingTimer) clearTimeout(this.typingTimer);
    this.typingTimer = on ? setTimeout(() => this.setTyping(false), TYPING_IDLE_MS) : null;
    this.replica.setTyping(on);
  }

  dispose(): void {
    this.unsubscribe();
    if (this.typingTimer) clearTimeout(this.typingTimer);
    this.clear();
  }

  private isOwn(doc: Y.Doc, messageId: string): boolean {
    return findMessage(doc, messageId)?.map.get('author') === this.me;
  }

  private compute(): ConversationSnapshot {
    if (this.content?.version !== this.replica.contentVersion) this.content = { version: this.replica.contentVersion, value: this.computeContent() };
    const users = awarenessUsers(this.replica.awareness, this.me);
    return { id: this.id, ...this.content.value, typing: users.typing, here: users.here, synced: this.replica.serverSynced };
  }

  private computeContent(): Pick<ConversationSnapshot, 'meta' | 'members' | 'messages' | 'reads' | 'unread' | 'pending' | 'saving' | 'lastMessage'> {
    const doc = this.doc;
    const reads = readReceipts(doc);
    const maps = displayOrder(conversationParts(doc).messages.toArray());
    const indexOf = new Map<string, number>();
    maps.forEach((map, index) => indexOf.set(map.get('id') as string, index));
    const receipts: [string, number][] = [];
    for (const [user, receipt] of Object.entries(reads)) {
      if (user !== this.me && indexOf.has(receipt.messageId)) receipts.push([user, indexOf.get(receipt.messageId)!]);
    }
    const members = readMembers(doc);
    // ✓✓ once every other member read it (in a group, "read by N" tells the rest).
    const others = Math.max(1, Object.keys(members).filter((m) => m !== this.me).length);
    let pending = 0;
    let saving = 0;
    const messages = maps.map((map, index): MessageView => {
      const message = messageToJSON(map);
      const readBy = receipts.filter(([, at]) => at >= index).map(([user]) => user);
      if (message.author !== this.me) return { ...message, status: 'sent', readBy };
      const id = itemId(map);
      if (id !== null && covers(this.replica.ack, id)) return { ...message, status: readBy.length >= others ? 'read' : 'sent', readBy };
      const durable = id !== null && this.replica.isLocallyDurable(id);
      if (durable) pending++;
      else saving++;
      return { ...message, status: durable ? 'pending' : 'saving', readBy };
    });
    return {
      meta: readMeta(doc),
      members,
      messages,
      reads,
      unread: unreadCount(messages, this.me, reads[this.me]),
      pending,
      saving,
      lastMessage: messages.at(-1) ?? null,
    };
  }
}
