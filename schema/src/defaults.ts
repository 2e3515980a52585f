/**
 * Every limit and timing Parley uses, in one place. Server and client read
 * these; tests and benchmarks refer to them by name instead of repeating numbers.
 */
export const DEFAULTS = {
  /** Ids of users, conversations, messages and notifications. */
  idPattern: /^[A-Za-z0-9_.-]{1,64}$/,
  idMaxLength: 64,

  /** Message text, in UTF-8 bytes. */
  messageTextMaxBytes: 16 * 1024,
  /** One Yjs update, in bytes. */
  updateMaxBytes: 1024 * 1024,
  /** WebSocket frame limit: one update plus the protocol's envelope. */
  wsMaxPayloadBytes: 1024 * 1024 + 4 * 1024,
  /** HTTP request bodies. */
  httpBodyMaxBytes: 1024 * 1024,
  /**
   * A body refused as too large is still read (and discarded) up to this many
   * bytes and this long, so the client receives the 413 instead of a reset
   * connection; past either bound the server answers and closes at once.
   */
  httpDrainMaxBytes: 8 * 1024 * 1024,
  httpDrainMaxMs: 5_000,
  /** Display names and titles. */
  nameMaxLength: 200,
  titleMaxLength: 200,
  emojiMaxLength: 32,
  /**
   * Reactions on one message: distinct emoji per user, and keys in all (every
   * reaction is a key of the message's map, kept forever, read by every member).
   */
  reactionsMaxPerUserPerMessage: 20,
  reactionsMaxPerMessage: 2_000,
  /** Keys of an inbox's prefs.muted (conversation ids) and prefs.channels (notification kinds). */
  mutedMaxEntries: 5_000,
  channelsMaxEntries: 100,
  /** Members in one conversation created over HTTP. */
  membersMaxPerCreate: 500,
  /**
   * Members of one conversation, however added (409 limit_reached past it):
   * every message is a recompute over every member's inbox.
   */
  membersMaxPerConversation: 2_000,
  /**
   * Conversations a user (not a service or admin) may own, i.e. have created;
   * past it, creating answers 409 limit_reached. Each one costs a document and
   * a row in every member's list.
   */
  conversationsOwnedMaxPerUser: 2_000,

  historyPageDefault: 50,
  historyPageMax: 200,
  notificationsPageDefault: 50,
  notificationsPageMax: 200,

  /** Documents one WebSocket may hold open at once. */
  documentsPerConnection: 500,
  /** Open WebSockets per user, across every device and tab. */
  connectionsPerUser: 20,
  /** Sync and awareness messages per second per WebSocket (token bucket); past it the socket is read slower. */
  messagesPerSecondPerConnection: 1000,
  messagesBurstPerConnection: 5000,
  /** A socket kept over the rate this long is closed as a flood (`rate-limited`). */
  throttleMaxMs: 10_000,
  /** A throttled socket with nothing over the rate for this long counts as calm again. */
  throttleCalmMs: 1_000,
  /**
   * Yjs client ids one user may own in one document (each is a binding kept
   * for good; see ClientBindings). An app session that writes uses one, so an
   * honest user stays far below; a client minting an id per update does not.
   */
  clientIdsMaxPerUserPerDocument: 10_000,
  /** New Yjs client ids one awareness message may claim (a provider sends one: its own); the rest are dropped. */
  awarenessNewClientsPerMessage: 4,
  /** Hocuspocus: documents waiting for authentication on one socket. */
  maxPendingDocuments: 100,
  /** Hocuspocus: bytes and messages queued before a document is authenticated. */
  maxUnauthenticatedQueueBytes: 2 * 1024 * 1024,
  maxUnauthenticatedQueueMessages: 500,
  /** Hocuspocus: a socket silent this long is closed. */
  connectionTimeoutMs: 30_000,

  /** The update log of a document is folded into a snapshot past either bound. */
  compactionMaxLogUpdates: 500,
  compactionMaxLogBytes: 4 * 1024 * 1024,
  compactionMaxLogAgeMs: 5 * 60_000,
  compactionIntervalMs: 10_000,
  /** The snapshot is rewritten once the log holds this fraction of its bytes; below, only the log is squashed. */
  compactionMajorRatio: 0.5,

  /** Server-side writers keep a document open this long after their last write. */
  serverWriterIdleMs: 30_000,

  /** Dev login tokens. */
  devTokenTtlSeconds: 24 * 3600,
  /** Grace before closing a socket whose token expired, so the client can refresh. */
  tokenExpiryGraceMs: 0,

  /** Presence: a user counts as away once their last socket closed this long ago. */
  presenceAwayAfterMs: 0,

  /**
   * A chat notification is created only once its message has stayed unread
   * this long after the server first saw it: a person reading the chat live
   * (their receipt arrives within it) gets no notification for what they
   * already read (issue 12 item 6). An existing unread notification is
   * updated at once.
   */
  chatNotifyGraceMs: 1_500,

  /** Chat notifications: a burst of messages within this window is one recompute. */
  chatNotifyDelayMs: 15,
  /**
   * Inboxes written together by one recompute (one group commit); the event
   * loop is let go between groups so a big room's recompute does not hold up
   * the live messages arriving meanwhile.
   */
  chatNotifyInboxesPerTurn: 50,
  /**
   * Inboxes an event writes together (and known users it records together);
   * the event loop is let go between groups, so an announcement to every known
   * user does not stall everything else (10,000 inboxes held /healthz for 10 s).
   */
  eventInboxesPerTurn: 50,
  /** After each recompute the notifier rests this many times as long as it took: it takes at most 1/(1+f) of the CPU. */
  chatNotifyRestFactor: 1,
  /**
   * A conversation is recomputed again no sooner than this many times its last
   * recompute's cost, at most the max: a small room is notified at once, a big
   * busy room's bursts grow instead.
   */
  chatNotifyIntervalFactor: 20,
  chatNotifyMaxIntervalMs: 100,
  /**
   * Cluster mode: a node recomputing a conversation holds it this long at
   * most (issue 15, item 4); the others wait for it. Longer than any
   * recompute takes, so a burst is recomputed once; short enough that the
   * claim of a node that died is taken over soon.
   */
  chatRecomputeClaimMs: 30_000,

  /** Notifications clean-up. */
  cleanupMaxAgeMs: 30 * 24 * 3600_000,
  cleanupIntervalMs: 3600_000,
  /** Recipients one business event may name (each is an inbox write and a known user). */
  eventRecipientsMax: 10_000,
  /** Attempts to apply one business event (the `event.apply` queue) before its job is dead. */
  eventApplyMaxAttempts: 10,
  /**
   * Events applied at once: one, in the order they were accepted, as a
   * service posts them (a quote.accepted builds on its job.created's room; a
   * failing event still holds back no other: it goes back to wait).
   */
  eventApplyConcurrency: 1,
  /** Clean-up: inboxes loaded per run at most; the rest (those due longest) wait for the next run. */
  cleanupInboxesPerRun: 500,

  // --- issue 9, helper "history": the bounded inbox document and the offline history cache ---
  /**
   * A settled (read or archived) notification stays in its inbox document this
   * long after its last change, then the clean-up moves it to SQL, where
   * `GET /api/notifications` still pages it: every device syncs the inbox
   * document, so it must not grow with a user's whole notification history.
   */
  inboxSettledKeepMs: 24 * 3600_000,
  /** At most this many settled notifications stay in an inbox document (the newest); older ones move out at the next clean-up, however recent. */
  inboxSettledMax: 200,
  /**
   * An inbox document is renewed into a fresh one (like a conversation's live
   * document, issue 9) at the clean-up once its encoded size exceeds what a
   * fresh copy of its content would take by this much: the tombstones of
   * moved notifications and of overwritten summaries stay bounded.
   */
  inboxTombstoneBytesMax: 16_384,
  /**
   * Pages of older history (`GET .../messages`) a client keeps in IndexedDB
   * for offline reading, over all its conversations; the least recently used
   * go first. 400 pages of 50 messages are about 20,000 messages (a few MB).
   */
  historyCachePagesMax: 400,
  /**
   * Changes to messages outside the live window a client's outbox holds
   * (edits, deletions, reactions; one per message and kind, the newest wins),
   * made offline or waiting for the server, before it refuses more: the
   * outbox is in IndexedDB and is sent one REST call at a time.
   */
  outsideWindowOutboxMax: 1_000,

  /**
   * Job queue (sync-server/src/jobs): how often each queue looks for due jobs
   * when nothing woke it (an enqueue in this process wakes it at once; a job
   * enqueued by another server, a retry coming due or a lease running out is
   * found by this poll).
   */
  jobPollMs: 1_000,
  /**
   * How long a claimed job belongs to its worker. A running handler renews it
   * every third of it; a worker that crashed stops renewing, and its job runs
   * again once the lease has run out (at-least-once: handlers are idempotent).
   */
  jobLeaseMs: 60_000,
  /** Jobs one queue claims per query, at most (and never more than its free concurrency). */
  jobBatchSize: 50,
  /** Jobs of one queue running at once in this process, unless the queue says otherwise. */
  jobConcurrency: 4,
  /** Attempts before a job is dead, unless its queue says otherwise. */
  jobMaxAttempts: 10,
  /**
   * A failed job is due again after base * 2^(attempts - 1) ms, with jitter
   * (half to all of it), at most the max; each job on its own clock, so one
   * that keeps failing holds back no other. Ten attempts span about eight minutes.
   */
  jobRetryBaseMs: 1_000,
  jobRetryMaxMs: 5 * 60_000,
  /** Done jobs are kept this long (to look at in /api/admin/jobs), then deleted by the clean-up; dead ones are kept until retried. */
  jobDoneKeepMs: 24 * 3600_000,
  /** The last error kept per job, in characters (a handler's error can be anything a peer answered). */
  jobErrorMaxLength: 1_000,
  /** Jobs one GET /api/admin/jobs answers with, at most. */
  jobListMax: 200,
  /**
   * Business events: `occurredAt` is accepted from 1970 (a ms epoch is never
   * negative) up to this far ahead of the server's clock (a service's skew),
   * so every accepted event can be applied.
   */
  eventOccurredAtMaxAheadMs: 24 * 3600_000,

  /**
   * Times a client writes (a message's createdAt, editedAt and deletedAt,
   * reactions, read receipts, a notification's readAt, seenAt and archivedAt)
   * are not before this (2020-01-01: no Parley data is older) and at most
   * `clientClockSkewMaxMs` ahead of the server's clock (CONTRACT: createdAt at
   * most 5 minutes ahead). createdAt is immutable, so one absurd value would
   * stay in everyone's conversation forever.
   */
  clientTimestampMin: Date.UTC(2020, 0, 1),
  clientClockSkewMaxMs: 5 * 60_000,
  /** Times that lie ahead by design (a mute's "until"): at most what a JS Date can hold, so every stored time renders. */
  timestampMax: 8_640_000_000_000_000,

  /** Graceful shutdown: how long SIGTERM waits for connections to drain. */
  shutdownGraceMs: 5_000,

  // ---- Work and memory per socket (issue 11: items 4, 5, 9) ----
  /** One awareness state, as JSON, in bytes: a typing flag and a name need a few hundred; bigger states are dropped (every join and query re-sends them). */
  awarenessStateMaxBytes: 4 * 1024,
  /** Awareness states one document holds at once; past it new client ids are dropped (every join is sent all of them). */
  awarenessStatesPerDocument: 1_000,
  /** QueryAwareness per socket and document (token bucket): the answer is the whole document's awareness. */
  awarenessQueriesPerSecond: 2,
  awarenessQueriesBurst: 5,
  /**
   * Back-pressure: past `wsBufferedHighBytes` unsent to a socket, the server stops reading it (its
   * requests wait) until it drains below `wsBufferedLowBytes`; past `wsBufferedMaxBytes` it is closed
   * (`slow-reader`), and so is a socket kept over the high mark for `wsStalledMaxMs`.
   */
  wsBufferedHighBytes: 4 * 1024 * 1024,
  wsBufferedLowBytes: 1024 * 1024,
  wsBufferedMaxBytes: 32 * 1024 * 1024,
  wsStalledMaxMs: 5_000,
  /** Liveness: every socket is pinged this often; one that has not answered the last ping by the next is terminated. */
  wsPingIntervalMs: 15_000,
  /** Pings in a row a socket may leave unanswered before it is terminated (a late pong from a busy peer is not death). */
  wsPingMissesMax: 2,
  /** A socket that has no authenticated document this long after it opened is closed (`auth-timeout`). */
  authDeadlineMs: 5_000,
  /** Sockets not yet authenticated, at once: server-wide and per remote address (past them a new socket is closed at once). */
  unauthenticatedSocketsMax: 1_000,
  unauthenticatedSocketsPerAddress: 64,
  /** Bytes all unauthenticated sockets together may have sent (Hocuspocus queues them); past it the socket that sends more is closed. */
  unauthenticatedBytesMax: 64 * 1024 * 1024,
  /** Refused updates are logged at most this many lines per window, then one summary line: an attacker cannot set the log volume. */
  refusalLogsPerWindow: 10,
  refusalLogWindowMs: 10_000,
  /** A socket the server closes (flood, slow reader, shutdown) and that has not closed this long after the close frame is terminated. */
  socketCloseGraceMs: 1_000,
  /** SDK: after a socket closed for its rate (4429) the client waits this long before reconnecting, doubling up to the max. */
  clientRateLimitedBackoffMs: 2_000,
  clientRateLimitedBackoffMaxMs: 30_000,
  // --- Storage failures and operations (issue 11: full disk, integrity, backup, soak) ---
  /**
   * After the server closed a document because it could not store an update
   * (disk full), the SDK reconnects and resends after this long, doubling up
   * to the max while it keeps failing: soon enough to recover by itself once
   * space returns, rare enough not to hammer a server that has none.
   */
  storageRetryMs: 1_000,
  storageRetryMaxMs: 30_000,
  /** `Retry-After` (seconds) of a 507/503 answered because storage failed. */
  storageRetryAfterSeconds: 5,
  /**
   * Databases up to this size get `PRAGMA quick_check` at start (about a
   * second per few hundred MB on a fast disk); a bigger one only gets its
   * header and schema read, so a restart is never held up for minutes.
   * Check a big one offline with `sqlite3 parley.sqlite 'PRAGMA quick_check'`.
   */
  startupQuickCheckMaxBytes: 1024 * 1024 * 1024,
  // --- Hostile HTTP (issue 11): who may call how often, and where push may point ---
  /**
   * Push subscription endpoints must be `https:` on one of these hosts
   * (`PUSH_ENDPOINT_HOSTS` overrides): the push services of Chrome, Firefox,
   * Edge and Safari. `*.example.com` means any subdomain of example.com (not
   * itself); `host:port` allows that port only. Anything else would let a
   * client make the server call arbitrary addresses once push is sent.
   */
  pushEndpointHosts: ['fcm.googleapis.com', 'updates.push.services.mozilla.com', '*.notify.windows.com', 'web.push.apple.com'],
  /**
   * HTTP API requests per window (`/api/...`; health, metrics and the web app's
   * files are not counted), keyed by the token's user, or by IP address without
   * a valid token. A person's app makes a few a second (60/s leaves room for
   * scripts and the test suites' bursts, e.g. 500 creates in a row); a service
   * posts events for everyone, so it gets more. Env `HTTP_RATE_LIMIT_*` overrides.
   */
  httpRateWindowMs: 10_000,
  httpRequestsPerWindowPerUser: 600,
  httpRequestsPerWindowPerService: 20_000,
  httpRequestsPerWindowPerIp: 300,
  /**
   * Push subscriptions kept per user (one per browser and device); subscribing
   * past it drops that user's oldest, which a re-subscribing browser left behind.
   */
  pushSubscriptionsMaxPerUser: 20,
  /** Distinct callers whose request counts are kept at once (least recently seen are forgotten). */
  httpRateTrackedCallers: 100_000,
  // --- History and search from the message index (issue 9, items 3 and 4) ---
  /**
   * `GET /api/search`: results per page (default and most), the longest query
   * accepted (characters) and the words of it that count (the rest are
   * ignored). Every word is a prefix scan of the full-text index and every
   * result a snippet to build: a query's work stays bounded.
   */
  searchPageDefault: 20,
  searchPageMax: 50,
  searchQueryMaxLength: 256,
  searchTermsMax: 8,
  /**
   * Matches ranked together (BM25) by `GET /api/search`: the newest this many
   * in the caller's conversations, then the next this many older ones as the
   * caller pages on. A query costs this many index rows, not as many as the
   * history holds matches ("best match first" is within a window).
   */
  searchWindow: 500,
  /**
   * Messages written or edited since the full-text index last took them in
   * (SQLite): at this many, the write that reaches it indexes them all in its
   * transaction, and a search indexes what waits before it reads. FTS5 writes a
   * new segment per transaction, about half of a message's commit when each
   * message is its own; a batch pays that once (issue 13). Bounds the waiting
   * rows (to this many; up to twice as many after a failed commit).
   */
  searchIndexBatch: 64,
  // --- Mentions, blocks and reports (issue 14, items 2-4) ---
  /**
   * Members one message may mention: each is a `mention` notification written
   * into an inbox (through mutes), so one message must not reach a whole big room.
   */
  mentionsMaxPerMessage: 50,
  /** Users one user may block (`PUT /api/users/me/blocks/:userId`); every recompute of a shared room reads them. */
  blocksMaxPerUser: 1_000,
  /** A report's reason, in characters (trimmed, not blank): a sentence or two for a moderator to read. */
  reportReasonMaxLength: 1_000,
  /** Open reports one user may have at once (409 limit_reached past it): each is a row a moderator must read. */
  reportsOpenMaxPerUser: 100,
  /** Reports one `GET /api/admin/reports` answers with, at most. */
  reportListMax: 200,

  // --- Attachments and erasure (issue 14, items 1 and 5) ---
  /**
   * The largest file `POST /api/conversations/:id/attachments` stores (env
   * `UPLOAD_MAX_BYTES`): photos of a job and a quote as a PDF fit; a bigger
   * body answers 413 and is read to its end (up to twice this) so the client
   * sees the answer, not a reset.
   */
  uploadMaxBytes: 25 * 1024 * 1024,
  /** Attachments on one message: the upload's answers, each a stored file. */
  attachmentsMaxPerMessage: 20,
  /** Characters kept of a file's name (after sanitising). */
  attachmentNameMaxLength: 200,
  /** An image with more pixels is refused (400 `invalid_image`), not decoded: a decompression bomb costs memory. */
  imageMaxPixels: 50_000_000,
  /** The longest side of a thumbnail, px (a timeline preview; the original is fetched when opened). */
  thumbnailMaxPx: 320,
  /** How long a signed attachment link (`?sig=`, for `<img>` tags that cannot send a bearer token) is valid. */
  attachmentLinkTtlMs: 10 * 60_000,
  /** An upload no message ever referred to is removed after this (a message held offline refers to it within it). */
  attachmentUnreferencedKeepMs: 7 * 24 * 3600_000,
  /**
   * A soft deletion is erased from history, snapshots, search, inboxes and the
   * file's free pages this long after it (deletions in the meantime share one
   * run): well inside the contract's 60 s.
   */
  erasureDelayMs: 3_000,

  // --- Bounded live document (issue 9, item 2) ---
  /**
   * Messages `conversation:<id>` keeps after a renewal (the contract asks for
   * at least 200): enough for a screen of scroll-back and the messages people
   * still react to. Older ones live in the message index (history, search,
   * REST edits).
   */
  liveWindowMessages: 500,
  /**
   * A live document is renewed into a fresh one holding the window once it
   * holds more than this many windows of messages: the document stays between
   * 1x and 2x the window, and a renewal (a snapshot rewrite and a reconnect
   * of every member) happens once per window of new messages, not per message.
   */
  liveRenewalFactor: 2,
  /**
   * Changes to messages outside the window are announced in the live
   * document's `outside` map (message id -> time of the change): it keeps the
   * newest this many, the oldest is dropped when a new one comes.
   */
  outsideChangesMax: 100,
  /**
   * Every announcement overwrites or removes an entry, which leaves a small
   * Yjs tombstone: once the map has taken this many writes in one epoch the
   * live document is renewed (like one with too many messages), so the
   * tombstones do not pile up either.
   */
  outsideChangesRenewAfter: 1_000,
  // The SDK's queue of changes outside the window: outsideWindowOutboxMax (one outbox for both uses).

  // --- Delivery beyond the app (issue 10, CONTRACT 7): push, email digests, SMS ---
  /** CONTRACT 7 delays (env PUSH_AFTER_MS, EMAIL_AFTER_MS, EMAIL_DIGEST_INTERVAL_MS, SMS_AFTER_MS override). */
  pushAfterMs: 5_000,
  emailAfterMs: 600_000,
  emailDigestIntervalMs: 1_800_000,
  smsAfterMs: 900_000,
  /**
   * One request to a push service or the SMS webhook, start to answer: a
   * peer that is slow (or hostile) costs a job slot this long at most, never
   * the queue. Connecting (TCP + TLS) has its own, shorter bound: until the
   * request is written, a failure is known not to have delivered anything.
   */
  deliveryRequestTimeoutMs: 10_000,
  deliveryConnectTimeoutMs: 5_000,
  /** Bytes of a peer's answer read at most (an error body to log); the rest is dropped with the socket. */
  deliveryResponseMaxBytes: 16 * 1024,
  /** Attempts of a delivery job (429 and 5xx back off between them) before it is dead. */
  deliveryMaxAttempts: 8,
  /** Delivery jobs running at once per queue (each holds a peer request at most deliveryRequestTimeoutMs). */
  deliveryConcurrency: 16,
  /** A peer's Retry-After is honoured up to this (a longer one waits this long, then asks again). */
  deliveryRetryAfterMaxMs: 3_600_000,
  /** Web Push TTL: how long a push service keeps a message for a device that is away. */
  pushTtlSeconds: 24 * 3600,
  /** Push payload bytes before encryption: Web Push carries 4 KiB at most (RFC 8291), so the body is cut to fit. */
  pushPayloadMaxBytes: 3_000,
  /** Notifications one digest lists at most (the oldest beyond wait for the next digest). */
  emailDigestMaxItems: 50,
  /**
   * The recurring digest sweep (env DIGEST_SWEEP_MS): how often it looks for
   * users whose digest is due, how many it takes per run (a full batch queues
   * another run at once), and how long a taken user is held before a digest
   * job that never settled them makes them due again.
   */
  digestSweepIntervalMs: 60_000,
  digestSweepBatch: 500,
  digestSweepHoldMs: 15 * 60_000,
  /** Characters of a notification's text quoted in a digest or an SMS. */
  deliveryQuoteMaxChars: 280,
  /** Email and phone contact fields, characters (RFC 5321 path limit; E.164 is at most 16 with the +). */
  contactEmailMaxLength: 254,

  // ---- Cluster mode (issue 15): several servers on PostgreSQL and Redis ----
  /** How often a node renews its presence in Redis (its online users and its liveness key). */
  clusterHeartbeatMs: 1_000,
  /** A node whose liveness key is this old is dead: its users go offline, its awareness states are removed. */
  clusterNodeTtlMs: 5_000,
  /** One awareness message relayed between nodes, bytes (a document's states from one node); larger ones are dropped. */
  clusterAwarenessMessageMaxBytes: 256 * 1024,
  /** SIGTERM: how long a draining node answers 503 on /healthz before it closes its sockets (env DRAIN_DELAY_MS), so the load balancer stops sending first. */
  drainDelayMs: 0,
} as const;

export type Defaults = typeof DEFAULTS;
