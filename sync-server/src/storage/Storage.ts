import type { ConversationKind, EntityRef, MemberRole, Message } from '@parley/schema';

/**
 * Everything the server keeps on disk, behind one interface so that the
 * embedded SQLite store and a shared PostgreSQL store can pass the same suite
 * (storage.suite.ts). Methods are async so a networked store fits; the SQLite
 * one answers from the same tick.
 */
export interface Storage {
  readonly documents: DocumentStore;
  readonly conversations: ConversationStore;
  readonly users: UserStore;
  readonly clients: ClientBindingStore;
  readonly events: EventStore;
  readonly work: ConversationWorkStore;
  readonly push: PushSubscriptionStore;
  readonly messages: MessageIndex;
  close(): Promise<void>;
}

/** A document is a snapshot plus an append-only log of the updates since. */
export interface DocumentStore {
  /**
   * Appends one update, and what it changes in the message index in the same
   * transaction, so the index is never behind a stored update. Once this
   * resolves both survive a crash. When an append fails (a StorageWriteError
   * when the disk is full or failing), every later append to that document
   * fails too until it is loaded again: later updates may build on the lost
   * one, and a stored update whose dependency is missing would never apply.
   */
  append(doc: string, update: Uint8Array, index?: IndexChange): Promise<void>;
  /** Resolves once every append started before it has survived a crash. */
  settled(): Promise<void>;
  /** Also lifts the fence of a failed append (see append): what is loaded is what is stored. */
  load(doc: string): Promise<StoredDocument>;
  /** Documents whose log has outgrown one of the bounds. */
  compactionCandidates(bounds: CompactionBounds): Promise<string[]>;
  /**
   * Compacts the log, atomically: updates appended while the merge runs stay
   * in the log. While the log is small next to the snapshot (below
   * `majorRatio` of its bytes) only the log is squashed into one entry;
   * otherwise snapshot and log fold into a new snapshot. So a long document's
   * snapshot is rewritten once per that fraction of growth, not every few
   * hundred updates: compaction costs stay proportional to what was appended.
   */
  compact(doc: string, merge: MergeParts, majorRatio?: number): Promise<{ folded: number }>;
}

/** Merges stored parts into one; `complete` when they are the whole document (snapshot first). */
export type MergeParts = (parts: Uint8Array[], how: { complete: boolean }) => Uint8Array;

export interface StoredDocument {
  snapshot: Uint8Array | null;
  updates: Uint8Array[];
}

export interface CompactionBounds {
  /** A log of this many updates is worth squashing. */
  maxUpdates: number;
  /**
   * A log this big, and at least `majorRatio` of its snapshot, is worth
   * folding into the snapshot. (A big log that is small next to its snapshot
   * is left alone: squashing it again gains nothing, and folding it would
   * re-encode the whole history.)
   */
  maxBytes: number;
  majorRatio: number;
  /** Logs whose oldest update is older than this (ms epoch) are compacted too. */
  olderThan: number;
}

export interface ConversationRecord {
  id: string;
  kind: ConversationKind;
  title: string;
  createdBy: string;
  createdAt: number;
  ref: EntityRef | null;
}

export interface MemberRecord {
  userId: string;
  role: MemberRole;
  joinedAt: number;
}

export interface NewConversation extends ConversationRecord {
  /** For direct conversations: the sorted pair, unique across the store. */
  directKey: string | null;
  members: MemberRecord[];
}

export interface ConversationStore {
  /** Creates it, or returns the existing one with the same id or direct key. */
  create(conversation: NewConversation): Promise<{ id: string; created: boolean }>;
  get(id: string): Promise<ConversationRecord | null>;
  members(id: string): Promise<MemberRecord[]>;
  role(id: string, userId: string): Promise<MemberRole | null>;
  /** False when they were already a member. */
  addMember(id: string, member: MemberRecord): Promise<boolean>;
  /** False when they were not a member. */
  removeMember(id: string, userId: string): Promise<boolean>;
  /** False when there is no such conversation. */
  setTitle(id: string, title: string): Promise<boolean>;
  listFor(userId: string): Promise<ConversationRecord[]>;
  /** Whether two users are members of at least one common conversation. */
  shareAny(userA: string, userB: string): Promise<boolean>;
  /** How many members a conversation has. */
  memberCount(id: string): Promise<number>;
  /** In how many conversations a user is an owner (those they created, as a user). */
  ownedCount(userId: string): Promise<number>;
}

export interface UserRecord {
  id: string;
  name: string | null;
  lastSeenAt: number | null;
}

export interface UserStore {
  /** Records a user the server has seen (token, membership or event). */
  remember(id: string, name?: string | null): Promise<void>;
  setLastSeen(id: string, at: number): Promise<void>;
  get(ids: string[]): Promise<UserRecord[]>;
  all(): Promise<string[]>;
}

/** Which user first wrote with a Yjs client id in a document (see the update validator). */
export interface ClientBindingStore {
  owner(doc: string, clientId: number): Promise<string | null>;
  bind(doc: string, clientId: number, userId: string): Promise<void>;
  /** Every binding of a document, to hold in memory while it is open. */
  all(doc: string): Promise<Map<number, string>>;
}

export interface StoredEvent {
  id: string;
  type: string;
  /** The accepted envelope, as JSON. */
  body: string;
  recipients: string[];
  receivedAt: number;
  attempts: number;
}

/** Who is who about a business object, learned from an accepted event. */
export interface EventFacts {
  /** People tied to a business object (a job's owner, a quote's professional). */
  parties: Array<{ subject: { type: string; id: string }; role: string; userId: string }>;
  /** A quote or payment belongs to a job. */
  links: Array<{ subject: { type: string; id: string }; jobId: string }>;
}

/** Business events: the idempotency record and the outbox of effects still to apply. */
export interface EventStore {
  /**
   * Stores a new event and what it teaches, in one transaction; false when the
   * id is known (a duplicate), and then nothing is written.
   */
  insert(event: { id: string; type: string; body: string; recipients: string[]; receivedAt: number }, facts: EventFacts): Promise<boolean>;
  /** True when an event with this id is stored. */
  has(id: string): Promise<boolean>;
  /** Events not applied, due at `now` and tried fewer than `maxAttempts` times, oldest first. */
  pending(limit: number, now: number, maxAttempts: number): Promise<StoredEvent[]>;
  markApplied(id: string, at: number): Promise<void>;
  /** Counts a failed attempt; the event is due again at `nextAttemptAt`. */
  markFailed(id: string, error: string, nextAttemptAt: number): Promise<void>;
  /** Deletes applied events received before `before`; returns how many. */
  pruneApplied(before: number): Promise<number>;
  parties(subject: { type: string; id: string }, role: string): Promise<string[]>;
  jobOf(subject: { type: string; id: string }): Promise<string | null>;
}

/** Conversations whose messages or receipts changed and whose members' inboxes need recomputing. */
export interface ConversationWorkStore {
  /**
   * Marks it. A mark started before an append is durable no later than that
   * append (the append alone may be awaited).
   */
  mark(conversationId: string): Promise<void>;
  /** Ordered with marks the same way: a mark started after a clear stays. */
  clear(conversationId: string): Promise<void>;
  all(): Promise<string[]>;
}

export interface PushSubscription {
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

export interface PushSubscriptionStore {
  add(userId: string, subscription: PushSubscription): Promise<void>;
  remove(userId: string, endpoint: string): Promise<boolean>;
  list(userId: string): Promise<PushSubscription[]>;
}

/** A message as the index keeps it: the document's fields, its conversation and its place in the server's order. */
export interface IndexedMessage extends Message {
  conversationId: string;
  /** The server's order of acceptance within the conversation, from 1. */
  seq: number;
  mentions?: string[];
}

export type IndexableMessage = Message & { mentions?: string[] };

/** What one update changes in the index: the messages it touched, whole, and the receipts it set. */
export interface IndexChange {
  conversationId: string;
  messages: IndexableMessage[];
  reads: Array<{ userId: string; messageId: string; at: number }>;
}

export interface MessagePage {
  /** Newest first. */
  messages: IndexedMessage[];
  /** Whether older messages exist before the last one. */
  more: boolean;
}

export interface SearchRequest {
  userId: string;
  /** An FTS match expression built by the domain (never raw user input). */
  match: string;
  conversationId?: string;
  limit: number;
  /** Continue after this hit (from a previous page). */
  after?: SearchPosition;
}

export interface SearchPosition {
  rank: number;
  rowid: number;
}

export interface SearchHit {
  message: IndexedMessage;
  /** The text around the match, the match between \u0001 and \u0002. */
  snippet: string;
  position: SearchPosition;
}

/**
 * Messages, edits, soft deletions, reactions and read receipts as rows, so
 * history, search, lists and unread counts cost what they return, not the
 * length of the conversation. Changes arrive with the update they come from
 * (`DocumentStore.append`), or alone when an index is (re)built.
 */
export interface MessageIndex {
  /** Writes a change alone; with `builtAt`, also marks its conversation built, in the same transaction. */
  write(change: IndexChange, builtAt?: number): Promise<void>;
  /** Whether a conversation's index was built (from its document, or since it began). */
  isBuilt(conversationId: string): Promise<boolean>;
  markBuilt(conversationId: string, at: number): Promise<void>;
  /** Conversations whose index was never built (stored before the index existed). */
  unbuilt(): Promise<string[]>;
  get(conversationId: string, messageId: string): Promise<IndexedMessage | null>;
  /** Newest first, strictly before `beforeSeq` (null: from the newest). */
  page(conversationId: string, beforeSeq: number | null, limit: number): Promise<MessagePage>;
  last(conversationId: string): Promise<IndexedMessage | null>;
  /** Messages by others after the user's receipt, not deleted, not system: exact. */
  unread(conversationId: string, userId: string): Promise<number>;
  /** Best match first, among the conversations the user is a member of now; deleted messages never match. */
  search(request: SearchRequest): Promise<SearchHit[]>;
}
