import type { BlobStore } from './blobs/BlobStore';
import type { FileBlobStore } from './blobs/FileBlobStore';
import type { ConversationKind, EntityRef, JobState, MemberRole, Message, Notification } from '@parley/schema';

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
  readonly jobs: JobStore;
  readonly sweeps: SweepStore;
  readonly blocks: BlockStore;
  readonly reports: ReportStore;

  readonly attachments: AttachmentStore;
  /**
   * Makes what was deleted unreadable from the store's files (issue 14, item
   * 5): SQLite zeroes freed cells and pages as it goes (`secure_delete`), and
   * this folds the WAL into the file and truncates it, so no older page image
   * with deleted text survives there either.
   */
  scrub(): Promise<void>;

  readonly notificationArchive: NotificationArchive;

  readonly deliveries: DeliveryStore;
  /** Set when several servers may share this store (PostgreSQL): see SharedDocuments. */
  readonly shared?: SharedDocuments;
  /**
   * Where attachment bytes live when several servers share this store, so
   * any server serves a file any server received; uploads still arrive in
   * `scratch`'s local files. Absent: the bytes are files in DATA_DIR.
   */
  sharedBlobs?(scratch: FileBlobStore): BlobStore;
  close(): Promise<void>;
}

// --- Attachments (issue 14) ---

/** One upload: the file's facts as the upload call answered them, and where its bytes are. */
export interface AttachmentRecord {
  id: string;
  conversationId: string;
  url: string;
  uploader: string;
  /** SHA-256 (hex) of the stored bytes: the blob's name in the BlobStore. */
  blob: string;
  /** SHA-256 of the thumbnail's bytes, for images. */
  thumbnail: string | null;
  name: string;
  type: string;
  size: number;
  width: number | null;
  height: number | null;
  createdAt: number;
}

/**
 * Uploads and which messages refer to them. The references are kept by the
 * store from the message index's `attachments` column, in the index write's
 * own transaction. `find` and `blobInUse` answer synchronously: the update
 * validator judges in one synchronous stretch, and a blob is removed only in
 * the same stretch as the check that nothing names it (see Attachments).
 */
export interface AttachmentStore {
  insert(record: AttachmentRecord): Promise<void>;
  remove(id: string): Promise<void>;
  get(conversationId: string, id: string): Promise<AttachmentRecord | null>;
  find(url: string): AttachmentRecord | null;
  /** Whether an upload (other than `exceptId`) names this blob, as its file or its thumbnail. */
  blobInUse(hash: string, exceptId?: string): boolean;
  /**
   * The conversation's uploads that messages referred to and none refers to
   * any more, and those never referred to, created before `unreferencedBefore`.
   */
  unreferenced(conversationId: string, unreferencedBefore: number): Promise<AttachmentRecord[]>;
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
   * `jobs` are enqueued in the same transaction (see JobStore.enqueue).
   */
  append(doc: string, update: Uint8Array, index?: IndexChange, jobs?: NewJob[]): Promise<void>;
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
  /**
   * Renews a live document (issue 9, item 2), in one transaction queued after
   * every append before it: `fresh` becomes the whole stored document (its
   * log is dropped), every client id bound in it is retired, and
   * `serverClientId` is bound to the server for the new epoch. A crash leaves
   * either the old document or the new one. Refused (StorageWriteError) when
   * an earlier append of the document failed (see append).
   * `build` makes the new epoch inside that transaction: on a store several
   * servers share it is given the document as stored then (under a lock no
   * append passes), which may hold appends of other servers this one has not
   * applied yet; alone, memory holds everything stored and it is given null.
   */
  renew(doc: string, build: RenewalBuild, serverOwner: string): Promise<void>;
}

/** The new epoch of a renewed document (see DocumentStore.renew). */
export type RenewalBuild = (stored: StoredDocument | null) => { update: Uint8Array; serverClientId: number };

/**
 * What a store several servers share (PostgreSQL) tells them about each
 * other's document writes (issue 15; sync-server/src/cluster uses it). Every
 * append and renewal is announced after its commit, in commit order.
 */
export interface SharedDocuments {
  /** This server's id in the announcements (random per process). */
  readonly node: string;
  /**
   * How often the document was replaced (renewed) when this server last
   * loaded it: its appends carry it and fail once the stored one moved on.
   */
  generationOf(doc: string): number;
  /** The document left memory: its generation need not be kept. */
  forget(doc: string): void;
  /** The document as stored now and its generation, without touching what `load` sets (catching up). */
  read(doc: string): Promise<StoredDocument & { generation: number }>;
  /** A stored update by its log position, or null once compaction folded it away. */
  fetchUpdate(doc: string, seq: number): Promise<Uint8Array | null>;
  /**
   * Calls `listener` for every announcement, from every server this one
   * included, and with `resync` after its connection was lost and is back
   * (announcements in between are lost: reload what you hold). Resolves once
   * listening; the returned function stops.
   */
  listen(listener: (event: DocumentEvent) => void): Promise<() => Promise<void>>;
}

export type DocumentEvent =
  | { type: 'update'; doc: string; node: string; generation: number; seq: number; update: Uint8Array | null }
  | { type: 'replaced'; doc: string; node: string; generation: number }
  | { type: 'resync' };

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
  /**
   * False when they were not a member. A member removed is remembered as a
   * former member in the same transaction: their inbox may still quote the
   * conversation's messages, so erasure must reach it (issue 14, item 5).
   */
  removeMember(id: string, userId: string): Promise<boolean>;
  /** Users who left (or were removed from) the conversation since migration 11 and are not forgotten; by primary key. */
  formerMembers(id: string): Promise<string[]>;
  /** Forgets a former member (their inbox and archive hold nothing about the conversation any more). */
  forgetFormerMember(id: string, userId: string): Promise<void>;
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
  /** Where email and SMS go (PUT /api/users/:id/contact); a field left out stays, null clears it. */
  setContact(id: string, contact: { email?: string | null; phone?: string | null }): Promise<void>;
  /** The `email` and `phone_number` claims of the user's own latest token. */
  rememberClaims(id: string, claims: { email: string | null; phone: string | null }): Promise<void>;
  /** What was set by PUT, else what the token said. */
  contact(id: string): Promise<Contact>;
}

export interface Contact {
  email: string | null;
  phone: string | null;
}

/** Which user first wrote with a Yjs client id in a document (see the update validator). */
export interface ClientBindingStore {
  owner(doc: string, clientId: number): Promise<string | null>;
  /**
   * Binds the client id to the user unless it is bound already; resolves with
   * its owner either way (first come, first served: on a store several
   * servers share, another server's binding may be one this one never saw).
   */
  bind(doc: string, clientId: number, userId: string): Promise<string>;
  /** Every binding of a document, to hold in memory while it is open. */
  all(doc: string): Promise<Map<number, string>>;
  /** Whether any of these client ids was retired by a renewal of the document (a replica of an earlier epoch). */
  anyRetired(doc: string, clientIds: readonly number[]): Promise<boolean>;
}

export interface StoredEvent {
  id: string;
  type: string;
  /** The accepted envelope, as JSON. */
  body: string;
  recipients: string[];
  receivedAt: number;
  appliedAt: number | null;
}

/** Who is who about a business object, learned from an accepted event. */
export interface EventFacts {
  /** People tied to a business object (a job's owner, a quote's professional). */
  parties: Array<{ subject: { type: string; id: string }; role: string; userId: string }>;
  /** A quote or payment belongs to a job. */
  links: Array<{ subject: { type: string; id: string }; jobId: string }>;
}

/** Business events: the idempotency record; their effects are applied by jobs (see JobStore). */
export interface EventStore {
  /**
   * Stores a new event, what it teaches, and the jobs that will apply it, in
   * one transaction; false when the id is known (a duplicate), and then
   * nothing is written.
   */
  insert(
    event: { id: string; type: string; body: string; recipients: string[]; receivedAt: number },
    facts: EventFacts,
    jobs?: NewJob[],
  ): Promise<boolean>;
  /** True when an event with this id is stored. */
  has(id: string): Promise<boolean>;
  get(id: string): Promise<StoredEvent | null>;
  markApplied(id: string, at: number): Promise<void>;
  /** Deletes applied events received before `before`; returns how many. */
  pruneApplied(before: number): Promise<number>;
  parties(subject: { type: string; id: string }, role: string): Promise<string[]>;
  jobOf(subject: { type: string; id: string }): Promise<string | null>;
}

/** Conversations whose messages or receipts changed and whose members' inboxes need recomputing. */
export interface ConversationWorkStore {
  /**
   * Marks it, or bumps its mark's version (every mark does, so a recompute
   * can tell whether a change came in after it read the mark). A mark started
   * before an append is durable no later than that append (the append alone
   * may be awaited).
   */
  mark(conversationId: string): Promise<void>;
  /**
   * Takes the right to recompute a marked conversation until `until` (ms),
   * so that of several nodes one recomputes a burst (issue 15, item 4): it is
   * taken when nobody holds it, the holder's time ran out (`now` is past it;
   * a node that died holding it), or `claimant` holds it already. Answers the
   * mark's version with it, `busy` with the holder's end, or `none` when the
   * conversation is not marked. Committed before it answers.
   */
  claim(conversationId: string, claimant: string, until: number, now: number): Promise<WorkClaim>;
  /**
   * Clears the mark only if it still has this version: a mark stored since
   * (on any node) stays, and then it answers true. Either way the claimant's
   * claim ends. Ordered with marks like appends are.
   */
  clear(conversationId: string, version: number, claimant: string): Promise<boolean>;
  /** Ends the claimant's claim and keeps the mark (a recompute that has to come back). */
  release(conversationId: string, claimant: string): Promise<void>;
  all(): Promise<string[]>;
}

export type WorkClaim = { kind: 'claimed'; version: number } | { kind: 'busy'; until: number } | { kind: 'none' };

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
  /**
   * Matches ranked together: the newest this many, then the next this many
   * older ones, and so on (see searchWindows.ts). Bounds a query's work by
   * this, not by how many messages match.
   */
  window: number;
  /** Continue after this hit (from a previous page). */
  after?: SearchPosition;
}

export interface SearchPosition {
  rank: number;
  rowid: number;
  /** The hit's window: the rows below this one (exclusive), newest first. */
  ceiling: number;
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
  /** Which of these message ids the conversation has (unique ids across the whole history, issue 9 item 2). */
  existing(conversationId: string, ids: readonly string[]): Promise<string[]>;
  /**
   * Writes a change to messages that are in no live document any more (they
   * left the window): through the group commit, so queued in the same
   * stretch as the chat notifier's mark it commits in one transaction with it.
   */
  writeArchived(change: IndexChange): Promise<void>;
  /** Newest first, strictly before `beforeSeq` (null: from the newest). */
  page(conversationId: string, beforeSeq: number | null, limit: number): Promise<MessagePage>;
  last(conversationId: string): Promise<IndexedMessage | null>;
  /**
   * Messages by others after the user's receipt, not deleted, not system,
   * and not by `ignoredAuthors` (the caller's business, e.g. users blocked): exact,
   * at O(log n) per ignored author plus the deletions after the receipt, not
   * O(unread) (running tallies, migration 16).
   */
  unread(conversationId: string, userId: string, ignoredAuthors?: readonly string[]): Promise<number>;
  /** The newest of the messages `unread` counts (null: none), for the chat notification. */
  latestUnread(conversationId: string, userId: string, ignoredAuthors?: readonly string[]): Promise<IndexedMessage | null>;
  /** Best match first, among the conversations the user is a member of now; deleted messages never match. */
  search(request: SearchRequest): Promise<SearchHit[]>;
}

/**
 * Job states (JOB_STATES, in the schema): queued: waiting for its run time;
 * active: claimed by a worker, under a lease; retry: failed, waiting for its
 * next attempt; done: succeeded; dead: failed its last attempt (kept until
 * retried by hand).
 */
export type { JobState } from '@parley/schema';

export interface NewJob {
  queue: string;
  /** JSON-serialisable; what the handler needs to find its work (ids, not copies). */
  data: unknown;
  /** Not before this (ms epoch); default now. */
  runAt?: number;
  /** While a job of this queue with the same key is queued or waiting to retry, another is not added. */
  key?: string;
}

export interface Job {
  id: string;
  queue: string;
  data: unknown;
  state: JobState;
  /** Attempts started (claims), including the running one. */
  attempts: number;
  runAt: number;
  /** Until when an active job's lease holds. */
  leaseUntil: number | null;
  key: string | null;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
}

/** Who holds a claimed job: a finish by anyone else (a worker whose lease ran out) changes nothing. */
export interface Claim {
  id: string;
  attempt: number;
}

/**
 * The durable job queue's storage, with pg-boss's semantics, so the SQLite
 * store and a PostgreSQL one pass the same suite (jobs.suite.ts). Times are
 * passed in, so tests move the clock instead of waiting.
 */
export interface JobStore {
  /**
   * Adds jobs in one transaction, ordered with document appends (the group
   * commit): durable once this resolves. Returns each job's id, or null when
   * its key was pending already.
   */
  enqueue(jobs: NewJob[], now?: number): Promise<Array<string | null>>;
  /**
   * Claims up to `limit` due jobs of a queue, oldest run time first: queued
   * or retry jobs whose run time has come, and active ones whose lease ran
   * out (a crashed worker's). Each claim counts an attempt and takes a lease
   * until `now + leaseMs`. An expired job with no attempt left is dead instead.
   */
  claim(queue: string, limit: number, now: number, leaseMs: number, maxAttempts: number): Promise<Array<Job & { attempt: number }>>;
  /**
   * At a runner's start: leases held by this store's earlier processes end
   * now, so their jobs run again at once instead of after the lease. A SQLite
   * file has one server, so every active job is a dead process's; a shared
   * store (PostgreSQL) ends none and relies on the leases running out.
   */
  releaseAbandoned(now: number): Promise<number>;
  /** Extends the lease of a job still held; false when it is not held by this claim any more. */
  renew(claim: Claim, until: number): Promise<boolean>;
  complete(claim: Claim, now: number): Promise<boolean>;
  /** Records the error; due again at `retryAt`, or dead when that is null. */
  fail(claim: Claim, error: string, retryAt: number | null, now: number): Promise<boolean>;
  get(id: string): Promise<Job | null>;
  /** Newest change first. */
  list(filter: { state?: JobState; queue?: string; limit: number }): Promise<Job[]>;
  /** A dead job is queued again, attempts from zero; false when it is not dead. */
  retry(id: string, now: number): Promise<boolean>;
  counts(): Promise<Array<{ queue: string; state: JobState; count: number }>>;
  /** Deletes done jobs last changed before `before`; returns how many. */
  pruneDone(before: number): Promise<number>;
  /**
   * A recurring schedule's slot: when the schedule's next run time has come,
   * moves it to `nextAt` and enqueues `job` in the same transaction, so each
   * slot runs once across restarts and servers. A schedule seen for the first
   * time is only recorded, due at `nextAt`. Returns the job's id when it fired.
   */
  fireSchedule(name: string, now: number, nextAt: number, job: NewJob): Promise<string | null>;
  /**
   * A rule made shorter (daily to hourly, say): moves the stored next run to
   * `nextAt` only when it lies after `beyond` (the rule's second slot from
   * now), so a concurrent fire of the same rule is never undone.
   */
  shortenSchedule(name: string, nextAt: number, beyond: number): Promise<boolean>;
}

/**
 * Documents swept by a periodic job (the clean-up), so a run loads only those
 * that changed since their last sweep or that said when they would be due
 * again, instead of every document.
 */
export interface SweepStore {
  /**
   * Documents whose name starts with `prefix` that were never swept, changed
   * since their last sweep, or are due at `now`; never swept or due longest
   * first, at most `limit`. Each comes with a mark to give back to `record`.
   */
  due(prefix: string, now: number, limit: number): Promise<Array<{ doc: string; mark: number }>>;
  /** After a sweep at `now`: the document is due again when it changes after `mark`, or at `dueAt`. */
  record(doc: string, mark: number, dueAt: number | null, now: number): Promise<void>;
}

// --- Blocks and reports (issue 14, items 3 and 4) ---
export interface BlockRecord {
  blocker: string;
  blocked: string;
  createdAt: number;
}

/** Who blocked whom. Plain rows: what a block means is the domain's (domain/moderation). */
export interface BlockStore {
  /** False when it was there already (its time is kept). */
  add(blocker: string, blocked: string, at: number): Promise<boolean>;
  /** False when there was none. */
  remove(blocker: string, blocked: string): Promise<boolean>;
  has(blocker: string, blocked: string): Promise<boolean>;
  /** The blocker's blocks, newest first. */
  list(blocker: string): Promise<BlockRecord[]>;
  count(blocker: string): Promise<number>;
  /** Of `blockers`, those who block `blocked`. */
  blockersOf(blocked: string, blockers: string[]): Promise<string[]>;
  /** Every block between two members of a conversation, as blocker -> blocked ids. */
  amongMembers(conversationId: string): Promise<Map<string, Set<string>>>;
}

export interface ReportRecord {
  id: string;
  conversationId: string;
  messageId: string;
  reporter: string;
  reason: string;
  createdAt: number;
  closedAt: number | null;
  closedBy: string | null;
}

export interface ReportStore {
  /** Stores a new report; null when this reporter already reported this message (nothing is written). */
  add(report: Omit<ReportRecord, 'id' | 'closedAt' | 'closedBy'>): Promise<ReportRecord | null>;
  get(id: string): Promise<ReportRecord | null>;
  /** Open (or closed, or all) reports, oldest first for open ones (a queue), newest first otherwise. */
  list(state: 'open' | 'closed' | 'all', limit: number): Promise<ReportRecord[]>;
  openCount(reporter: string): Promise<number>;
  /** False when it was closed already (the first close stands). */
  close(id: string, by: string, at: number): Promise<boolean>;
}

/**
 * Settled (read or archived) notifications that left their user's inbox
 * document, so the document stays bounded (issue 9). A notification is in the
 * document or here; the API merges both. It never holds an unread one: marking
 * one unread again puts it back into the document.
 */
export interface NotificationArchive {
  /** Stores (or replaces) these notifications of the user; one transaction. */
  put(userId: string, notifications: readonly Notification[]): Promise<void>;
  get(userId: string, id: string): Promise<Notification | null>;
  /** The user's archived notifications whose id starts with `prefix` (a range of the primary key, bytewise). */
  withIdPrefix(userId: string, prefix: string): Promise<Notification[]>;
  /** Sets the `body` of these notifications where they still are in the archive (nothing else changes); one transaction. */
  setBodies(userId: string, bodies: ReadonlyArray<{ id: string; body: string }>): Promise<void>;
  remove(userId: string, ids: readonly string[]): Promise<void>;
  /** Newest first (updatedAt, then id, both descending), strictly after `after` in that order; archived ones only with `includeArchived`. */
  page(userId: string, options: { after: { updatedAt: number; id: string } | null; limit: number; includeArchived: boolean }): Promise<Notification[]>;
  /** Deletes the notifications last changed before `cutoff` (retention); returns how many. */
  prune(cutoff: number): Promise<number>;
}

export type DeliveryChannel = 'push' | 'email' | 'sms';

/** One version of one notification on one channel and device (the endpoint for push; `-` otherwise). */
export interface DeliveryKey {
  userId: string;
  notificationId: string;
  /** The notification's `updatedAt`: each version is delivered once. */
  version: number;
  channel: DeliveryChannel;
  target: string;
}

/**
 * sending: written before the send, so a process killed during it leaves a
 * trace; sent: the peer accepted it; failed: the peer did not (known), may be
 * tried again; gone: the subscription no longer exists; rejected: the peer
 * refused it for good; uncertain: an attempt ended without knowing (killed or
 * timed out after the request was written), so it is never sent again.
 */
export type DeliveryState = 'sending' | 'sent' | 'failed' | 'gone' | 'rejected' | 'uncertain';

/** What `begin` found: go (now marked sending), done (a final state), uncertain (an earlier attempt died mid-send). */
export type DeliveryStart = 'go' | 'done' | 'uncertain';

/**
 * What `begin` does with a record an earlier attempt left `sending` (that
 * process was killed during the send, so it may have arrived): `resend` it
 * (go: a channel whose copies replace each other, push), or `give-up`
 * (uncertain: a channel where a copy is a second message, SMTP and SMS).
 */
export type InterruptedSend = 'resend' | 'give-up';

/** The record behind "each version reaches each channel once" (CONTRACT 7). */
export interface DeliveryStore {
  /**
   * In one transaction, per key: no record, or a known failure, becomes
   * `sending` (go); a record still `sending` from an earlier attempt becomes
   * `uncertain`, or with `resend` stays `sending` for this attempt (go);
   * anything else is done. Durable once this resolves, so a send that starts
   * after it leaves a trace whatever happens to the process.
   */
  begin(keys: DeliveryKey[], attempt: number, now: number, interrupted?: InterruptedSend): Promise<DeliveryStart[]>;
  finish(keys: DeliveryKey[], state: Exclude<DeliveryState, 'sending'>, error: string | null, now: number): Promise<void>;
  /** Of these versions, those with any email record (sent, being sent, or given up on). */
  emailed(userId: string, versions: Array<{ notificationId: string; version: number }>): Promise<Set<string>>;
  lastDigestAt(userId: string): Promise<number | null>;
  recordDigest(userId: string, at: number): Promise<void>;
  /**
   * The user's digest may be due from `dueAt` (an earlier due time already
   * kept stays); `now` marks the row as touched, so a digest that started
   * before it does not clear it (clearDigest).
   */
  markDigestDue(userId: string, dueAt: number, now: number): Promise<void>;
  /** The user's digest is due at `dueAt` exactly (it had to wait: the interval, quiet hours, more to list). */
  deferDigest(userId: string, dueAt: number): Promise<void>;
  /** No digest is due any more for the user, unless a mark came at or after `startedAt`. */
  clearDigest(userId: string, startedAt: number): Promise<void>;
  /**
   * In one statement on the due-time index: up to `limit` users whose digest
   * is due by `now`, earliest first, each moved to `holdUntil` (so the next
   * sweep does not take them again while their digest job waits or runs; if
   * that job never settles them, they come due again then).
   */
  takeDueDigests(now: number, holdUntil: number, limit: number): Promise<string[]>;
  /** Deletes records last changed before `before` (their notifications are long read or gone); returns how many. */
  prune(before: number): Promise<number>;
}

/** `<notificationId>\n<version>`, as `emailed` answers. */
export const versionKey = (notificationId: string, version: number): string => `${notificationId}\n${version}`;
