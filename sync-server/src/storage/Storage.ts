import type { ConversationKind, EntityRef, MemberRole } from '@parley/schema';

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
  close(): Promise<void>;
}

/** A document is a snapshot plus an append-only log of the updates since. */
export interface DocumentStore {
  /** Appends one update; once this resolves the update survives a crash. */
  append(doc: string, update: Uint8Array): Promise<void>;
  /** Resolves once every append started before it has survived a crash. */
  settled(): Promise<void>;
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

/** Business events: the idempotency record and the outbox of effects still to apply. */
export interface EventStore {
  /** Stores a new event; false when the id is known (a duplicate). */
  insert(event: { id: string; type: string; body: string; recipients: string[]; receivedAt: number }): Promise<boolean>;
  pending(limit: number): Promise<StoredEvent[]>;
  markApplied(id: string, at: number): Promise<void>;
  markFailed(id: string, error: string): Promise<void>;
  /** Deletes applied events received before `before`; returns how many. */
  pruneApplied(before: number): Promise<number>;
  /** People tied to a business object (a job's owner, a quote's professional). */
  addParty(subject: { type: string; id: string }, role: string, userId: string): Promise<void>;
  parties(subject: { type: string; id: string }, role: string): Promise<string[]>;
  /** A quote or payment belongs to a job. */
  linkToJob(subject: { type: string; id: string }, jobId: string): Promise<void>;
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
