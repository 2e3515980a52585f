import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { Hocuspocus, type Extension } from '@hocuspocus/server';
import type { FastifyInstance } from 'fastify';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { AuthFailure, CloseCode, DEFAULTS, DocumentRenewal as DocumentRenewalProtocol, ServerFailure, SlowReader, UpdateRejection } from '@parley/schema';
import type { Config } from './config';
import { TokenVerifier } from './auth/TokenVerifier';
import { createLogger, type Logger } from './logger';
import { createMetrics, type Metrics } from './metrics';
import { SqliteStorage } from './storage/SqliteStorage';
import type { Storage } from './storage/Storage';
import { AccessPolicy } from './sync/AccessPolicy';
import { AuthExtension } from './sync/AuthExtension';
import { Compactor } from './sync/Compactor';
import { DocumentInitializer } from './sync/DocumentInitializer';
import { PersistenceExtension } from './sync/PersistenceExtension';
import { DocumentRenewal } from './sync/renewal/DocumentRenewal';
import { ServerWriter } from './sync/ServerWriter';
import { SocketSession } from './sync/SocketSession';
import { SessionRegistry } from './sync/SessionRegistry';
import { Throttle } from './sync/Throttle';
import { AwarenessQueries } from './sync/flow/AwarenessQueries';
import { Backpressure } from './sync/flow/Backpressure';
import { Liveness } from './sync/flow/Liveness';
import { PendingSockets } from './sync/flow/PendingSockets';
import { ReadValve } from './sync/flow/ReadValve';
import { ClientBindings } from './sync/validation/ClientBindings';
import { ValidationExtension } from './sync/validation/ValidationExtension';
import type { ConnectionContext } from './sync/context';
import { Conversations } from './domain/Conversations';
import { MessageActions } from './domain/MessageActions';
import { MessageSearch } from './domain/history/MessageSearch';
import { UserWrites } from './sync/validation/UserWrites';
import { ArchivedWrites } from './sync/validation/ArchivedWrites';
import { ChatNotifier } from './domain/notifications/ChatNotifier';
import { EventProcessor } from './domain/notifications/EventProcessor';
import { Notifications } from './domain/notifications/Notifications';
import { Cleanup } from './domain/notifications/Cleanup';
import { Presence } from './domain/Presence';
import { NotificationExtension } from './sync/NotificationExtension';
import { InboxReadExtension } from './sync/InboxReadExtension';
import { createHttpApp } from './http/createHttpApp';
import { backfillIndex } from './domain/history/IndexBackfill';
import { JobRunner } from './jobs/JobRunner';
import { Blocks } from './domain/moderation/Blocks';
import { Reports } from './domain/moderation/Reports';
import { MentionNotifier } from './domain/notifications/MentionNotifier';

import { Attachments } from './domain/attachments/Attachments';
import { SignedLinks } from './domain/attachments/signedLink';
import { uploadLookup } from './domain/attachments/uploadLookup';
import { Erasure } from './domain/erasure/Erasure';
import { FileBlobStore } from './storage/blobs/FileBlobStore';
import type { BlobStore } from './storage/blobs/BlobStore';
import { Delivery } from './delivery/Delivery';
import { InboxLookup } from './delivery/InboxLookup';
import { ContactClaims } from './delivery/ContactClaims';
import { ClusterDocuments } from './cluster/ClusterDocuments';
import { Cluster } from './cluster/Cluster';
import { Readiness } from './cluster/Readiness';

const SYNC_PATH = '/sync';
/** How often every socket's liveness and unsent bytes are looked at. */
const SWEEP_MS = 1_000;

function toUint8Array(data: RawData): Uint8Array {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data));
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function toFetchRequest(request: IncomingMessage): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(request.headers)) {
    if (typeof value === 'string') headers.set(name, value);
    else if (Array.isArray(value)) for (const v of value) headers.append(name, v);
  }
  return new Request(new URL(request.url ?? '/', 'http://localhost'), { headers });
}

/**
 * One Parley server: HTTP API, WebSocket sync and the web app on one port.
 * Wires the parts together; each part lives in its own area.
 */
export class ParleyServer {
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly storage: Storage;
  readonly hocuspocus: Hocuspocus;
  readonly writer: ServerWriter;
  readonly conversations: Conversations;
  readonly messageActions: MessageActions;
  readonly search: MessageSearch;
  readonly chat: ChatNotifier;
  readonly events: EventProcessor;
  readonly notifications: Notifications;
  readonly presence: Presence;
  readonly cleanup: Cleanup;
  readonly jobs: JobRunner;
  // Issue 14: mentions, blocks and reports.
  readonly mentions: MentionNotifier;
  readonly blocks: Blocks;
  readonly reports: Reports;

  readonly attachments: Attachments;
  readonly erasure: Erasure;
  /** Bounded live document (issue 9, item 2). */
  readonly renewal: DocumentRenewal;
  readonly delivery: Delivery;
  private readonly verifier: TokenVerifier;
  private readonly compactor: Compactor;
  private readonly wss: WebSocketServer;
  private readonly sessions = new Map<SocketSession, Liveness>();
  /** Each socket's read valve: a drain stops reading before it waits for the appends. */
  private readonly valves = new Map<SocketSession, ReadValve>();
  private readonly persistence: PersistenceExtension;
  private readonly pending = new PendingSockets<SocketSession>();
  private sweeper: NodeJS.Timeout | null = null;
  readonly registry = new SessionRegistry();
  private http: FastifyInstance | null = null;
  /** Set when the store may be shared with other servers (PostgreSQL, issue 15). */
  private readonly sharedDocuments: ClusterDocuments | null;
  private accepting = true;
  /** Cluster mode (REDIS_URL): awareness and presence across nodes; null on one server. */
  readonly cluster: Cluster | null;
  readonly readiness: Readiness;

  constructor(
    readonly config: Config,
    options: { logger?: Logger; storage?: Storage } = {},
  ) {
    this.logger = options.logger ?? createLogger(config.logLevel);
    this.storage = options.storage ?? SqliteStorage.inDataDir(config.dataDir);
    this.cluster = config.redisUrl
      ? new Cluster({ redisUrl: config.redisUrl, keyPrefix: config.cluster.keyPrefix, nodeId: config.cluster.nodeId, logger: this.logger, local: this.registry })
      : null;
    this.readiness = new Readiness(this.cluster?.bus ?? null);
    this.metrics = createMetrics(
      () => this.hocuspocus.getDocumentsCount(),
      () => this.storage.jobs.counts(),
      this.cluster ? config.cluster.nodeId : null,
    );
    this.jobs = new JobRunner({
      jobs: this.storage.jobs,
      logger: this.logger,
      onOutcome: (queue, outcome) => this.metrics.jobsFinished.inc({ queue, outcome }),
    });
    this.verifier = new TokenVerifier({ secret: config.jwtSecret, publicKeyPem: config.jwtPublicKey });
    const deps = { storage: this.storage, documents: this.storage.documents, metrics: this.metrics, logger: this.logger };
    const bindings = new ClientBindings(this.storage.clients);
    // --- Attachments and erasure (issue 14) ---
    const upload = uploadLookup(this.storage.attachments);
    this.attachments = new Attachments(
      { storage: this.storage, blobs: this.blobStore(config.dataDir), links: new SignedLinks(linkKey(config.jwtSecret)) },
      config.uploadMaxBytes,
    );
    const liveWindow = { window: config.liveWindow, factor: DEFAULTS.liveRenewalFactor };
    const persistence = (this.persistence = new PersistenceExtension({
      ...deps,
      diverged: (documentName, replaced) => void this.reload(documentName, replaced),
      mark: (id) => this.chat.mark(id),
      mentionJobs: (conversationId, messageIds) => this.mentions.jobsFor(conversationId, messageIds),
      jobsStored: () => this.mentions.stored(),
      // --- Bounded live document (issue 9, item 2) ---
      renewalThreshold: liveWindow.window * liveWindow.factor,
      outgrown: (documentName) => this.renewal.schedule(documentName),
      // Delivery is built after the writer (it reads inboxes through it), so it is reached lazily.
      inboxJobs: (userId, document, transaction) => this.delivery.inboxJobs(userId, document, transaction),
    }));
    // Any client on any server (issue 15): on a store several servers may share, follow the others' writes.
    const shared = this.storage.shared;
    this.sharedDocuments = shared
      ? new ClusterDocuments({
          shared,
          logger: this.logger,
          retire: (documentName, document) => void this.renewal.retire(documentName, document),
          delayMs: config.testFeedDelayMs,
        })
      : null;
    const cluster = this.sharedDocuments;
    const extensions: Extension[] = [
      ...(cluster ? [cluster] : []),
      new AuthExtension({ ...deps, verifier: this.verifier, access: new AccessPolicy(this.storage), sessions: this.registry }),
      new ValidationExtension({
        ...deps,
        bindings,
        archive: this.storage.messages,
        upload,
        ...(cluster && { catchUp: (document) => cluster.catchUp(document) }),
      }),
      // The notifier is built after Hocuspocus (it writes through it), so the extension reaches it lazily.
      // Another node's update (remote origin) is scheduled on the node that stored it, not once per node.
      new NotificationExtension({ schedule: (id) => this.chat.schedule(id) }),
      new InboxReadExtension({ chat: { readThrough: (userId, conversationId, messageId) => this.chat.readThrough(userId, conversationId, messageId) }, logger: this.logger }),
      persistence,
      new DocumentInitializer(this.storage),
      ...(this.cluster ? [this.cluster.relay] : []),
    ];
    this.hocuspocus = new Hocuspocus({
      quiet: true,
      extensions,
      timeout: DEFAULTS.connectionTimeoutMs,
      maxPendingDocuments: DEFAULTS.maxPendingDocuments,
      maxUnauthenticatedQueueSize: DEFAULTS.maxUnauthenticatedQueueBytes,
      maxUnauthenticatedQueueMessages: DEFAULTS.maxUnauthenticatedQueueMessages,
      // Broadcasts go out on the next turn of the event loop (setImmediate), after the group
      // commit's microtask: other members receive an update only once it is durable, and a
      // failed commit unloads the document before anything of it is sent (see
      // PersistenceExtension, step 4). `false` would broadcast synchronously, before the commit.
      flushDelay: 0,
    });
    this.writer = new ServerWriter(this.hocuspocus, (document) => persistence.persisted(document));
    // Built after the writer: erasure rewrites the quotes in inboxes through it.
    this.erasure = new Erasure({ storage: this.storage, writer: this.writer, attachments: this.attachments, jobs: this.jobs, logger: this.logger });
    this.compactor = new Compactor(deps, config.compaction);
    this.blocks = new Blocks(this.storage);
    this.reports = new Reports({ storage: this.storage, writer: this.writer });
    this.mentions = new MentionNotifier({ ...deps, writer: this.writer, jobs: this.jobs });
    const kill = () => process.kill(process.pid, 'SIGKILL');
    this.renewal = new DocumentRenewal(
      {
        hocuspocus: this.hocuspocus,
        gate: persistence,
        documents: this.storage.documents,
        logger: this.logger,
        dropWriter: (documentName) => this.writer.drop(documentName),
        sharedStore: this.storage.shared !== undefined,
        ...(config.testKillInRenewal === 'before-commit' && { beforeCommit: kill }),
        ...(config.testKillInRenewal === 'after-commit' && { afterCommit: kill }),
      },
      liveWindow,
    );
    this.conversations = new Conversations({
      storage: this.storage,
      writer: this.writer,
      blocks: this.blocks,
      disconnect: (documentName, userId) => this.disconnectUser(documentName, userId),
    });
    // A REST edit, deletion, reaction or receipt is judged as the user's own update, like a socket's.
    this.messageActions = new MessageActions({
      storage: this.storage,
      writes: new UserWrites({ writer: this.writer, bindings, metrics: this.metrics, upload, ...(shared && { node: shared.node }) }),
      // Messages outside the live window (issue 9, item 2): same rules, written to the index.
      archived: new ArchivedWrites({ writer: this.writer, messages: this.storage.messages, metrics: this.metrics, mark: (id) => this.chat.mark(id), logger: this.logger }),
    });
    this.search = new MessageSearch(this.storage);
    this.chat = new ChatNotifier({ ...deps, writer: this.writer, node: config.cluster.nodeId });
    this.events = new EventProcessor({ ...deps, writer: this.writer, conversations: this.conversations, jobs: this.jobs });
    this.notifications = new Notifications(this.writer, this.storage);
    // "Online" is any open socket on any node (cluster mode), else on this one.
    const online = this.cluster?.presence ?? this.registry;
    if (this.cluster) this.registry.onChange(() => this.cluster?.presence.changed());
    this.presence = new Presence(this.storage, this.registry, online);
    const contactClaims = new ContactClaims(this.storage.users, this.logger);
    this.verifier.onVerified = (identity) => contactClaims.record(identity);
    this.delivery = new Delivery(
      {
        storage: this.storage,
        metrics: this.metrics,
        logger: this.logger,
        jobs: this.jobs,
        inbox: new InboxLookup(this.writer),
        isOnline: (userId) => online.isOnline(userId),
        publicUrl: config.delivery.publicUrl,
      },
      config.delivery,
      this.writer,
      config.dataDir,
    );
    this.cleanup = new Cleanup(
      {
        ...deps,
        writer: this.writer,
        jobs: this.jobs,
        // The bounded inbox (issue 9): renewed like a conversation once its tombstones pass DEFAULTS.inboxTombstoneBytesMax.
        renew: async (doc) => {
          this.renewal.schedule(doc);
          await this.renewal.idle();
        },
      },
      config.cleanupMaxAgeMs,
      config.cleanupIntervalMs,
    );
    // One message per turn: the answer to a message is counted in bufferedAmount before the next is read (see Backpressure).
    this.wss = new WebSocketServer({ noServer: true, maxPayload: DEFAULTS.wsMaxPayloadBytes, allowSynchronousEvents: false });
  }

  /** Attachment bytes: in the shared store when there is one (every server serves every file), else files in DATA_DIR. */
  private blobStore(dataDir: string): BlobStore {
    const files = FileBlobStore.inDataDir(dataDir);
    return this.storage.sharedBlobs?.(files) ?? files;
  }

  async listen(): Promise<{ port: number; host: string }> {
    this.cluster?.start(this.hocuspocus);
    await backfillIndex(this.storage, this.logger);
    // Listening before the first client: no document loads without hearing what follows its read.
    await this.sharedDocuments?.start();
    this.http = await createHttpApp(
      {
        config: this.config,
        verifier: this.verifier,
        metrics: this.metrics,
        storage: this.storage,
        conversations: this.conversations,
        messageActions: this.messageActions,
        search: this.search,
        notifications: this.notifications,
        events: this.events,
        presence: this.presence,
        cleanup: this.cleanup,
        jobs: this.jobs,
        blocks: this.blocks,
        reports: this.reports,

        attachments: this.attachments,
        delivery: this.delivery,
        health: () => this.readiness.status(),
      },
      this.logger,
    );
    this.http.server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(request, socket, head));
    await this.http.listen({ port: this.config.port, host: this.config.host });
    this.compactor.start();
    this.sweeper = setInterval(() => this.sweep(), SWEEP_MS).unref();
    await this.jobs.start();
    void this.chat.recover().catch((error: unknown) => this.logger.error({ err: error }, 'recovering chat notifications failed'));
    this.readiness.markStarted();
    const address = this.http.server.address();
    const port = typeof address === 'object' && address ? address.port : this.config.port;
    return { port, host: this.config.host };
  }

  /**
   * Stop accepting, close sockets, flush writers and storage. A socket that
   * does not read never receives its close frame: it is terminated after
   * `DEFAULTS.socketCloseGraceMs` instead of holding the shutdown up. Storage
   * is closed (flushed) whatever failed before it.
   */
  async close(): Promise<void> {
    this.accepting = false;
    this.readiness.markDraining();
    if (this.sweeper) clearInterval(this.sweeper);
    try {
      await this.commitReceived();
      // 4503 "server-going-away": clients reconnect at once (behind a load balancer, to another node).
      for (const session of this.sessions.keys()) session.closeOrTerminate(CloseCode.shuttingDown, ServerFailure.goingAway, DEFAULTS.socketCloseGraceMs);
      // Closing now: data frames are ignored from here (see accept), the peers' close frames must be read.
      for (const valve of this.valves.values()) valve.release('drain');
      await this.compactor.stop();
      await this.renewal.idle();
      await this.jobs.stop();
      this.delivery.close();
      await this.chat.stop();
      await this.writer.closeAll();
      this.hocuspocus.closeConnections();
      this.wss.close();
      await this.socketsClosed(DEFAULTS.socketCloseGraceMs * 2);
      await this.cluster?.stop();
      await this.http?.close();
      await this.sharedDocuments?.stop();
    } finally {
      await this.storage.close();
    }
  }

  /**
   * SIGTERM in a cluster: answer 503 on /healthz and refuse new sockets at
   * once, give the load balancer `drainDelayMs` to notice, then close (the
   * sockets with 4503 so their clients reconnect elsewhere, the in-flight
   * appends committed before storage closes).
   */
  async drain(): Promise<void> {
    this.readiness.markDraining();
    this.accepting = false;
    const delay = this.config.cluster.drainDelayMs;
    if (delay > 0) {
      this.logger.info({ delayMs: delay }, 'draining: /healthz answers 503; closing sockets after the delay');
      await new Promise((r) => setTimeout(r, delay));
    }
    await this.close();
  }

  /**
   * Before the sockets close: stop reading them and wait until every update
   * already read is committed, so the node a client reconnects to loads a
   * state that holds all of it (bounded by the close grace: a stuck commit
   * fails its clients' writes as before, nothing is acknowledged without it).
   */
  private async commitReceived(): Promise<void> {
    for (const valve of this.valves.values()) valve.hold('drain');
    const appends = [...this.hocuspocus.documents.values()].map((document) => this.persistence.persisted(document).catch(() => {}));
    await Promise.race([Promise.all(appends), new Promise((r) => setTimeout(r, DEFAULTS.shutdownGraceMs / 2).unref())]);
  }

  private async socketsClosed(timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (this.sessions.size > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    for (const session of this.sessions.keys()) session.ws.terminate();
  }

  /** Liveness and unsent bytes of every socket (see Liveness, Backpressure). */
  private sweep(): void {
    const now = Date.now();
    for (const [session, liveness] of this.sessions) {
      if (session.ws.bufferedAmount > DEFAULTS.wsBufferedMaxBytes) this.closeSlowReader(session);
      else if (!liveness.tick(now)) session.ws.terminate();
    }
  }

  private closeSlowReader(session: SocketSession): void {
    this.logger.debug({ sessionId: session.id, buffered: session.ws.bufferedAmount }, 'closing a socket that does not read');
    session.closeOrTerminate(CloseCode.slowReader, SlowReader.reason, DEFAULTS.socketCloseGraceMs);
  }

  private upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (path !== SYNC_PATH || !this.accepting) {
      socket.end(`HTTP/1.1 ${this.accepting ? '404 Not Found' : '503 Service Unavailable'}\r\nConnection: close\r\n\r\n`);
      return;
    }
    this.wss.handleUpgrade(request, socket, head, (ws) => this.accept(ws, request));
  }

  private accept(ws: WebSocket, request: IncomingMessage): void {
    const session = new SocketSession(ws);
    const address = request.socket.remoteAddress ?? 'unknown';
    const refusal = this.pending.admit(session, address);
    if (refusal) {
      ws.close(CloseCode.tooManyUnauthenticated, refusal);
      return;
    }
    session.onAuthenticated = () => this.pending.leave(session);
    this.sessions.set(session, new Liveness(ws));
    this.metrics.connections.inc();
    const context: ConnectionContext = { session };
    const client = this.hocuspocus.handleConnection(ws, toFetchRequest(request), context);
    const valve = new ReadValve(ws);
    this.valves.set(session, valve);
    const throttle = new Throttle(valve.for('rate'), () => {
      this.metrics.updatesRejected.inc({ reason: UpdateRejection.rateLimited });
      session.closeOrTerminate(CloseCode.rateLimited, UpdateRejection.rateLimited, DEFAULTS.socketCloseGraceMs);
    });
    const queries = new AwarenessQueries();
    const backpressure = new Backpressure(
      ws,
      valve.for('backpressure'),
      (data) => client.handleMessage(data),
      () => this.closeSlowReader(session),
    );
    // Hocuspocus' own pre-authentication deadline is its idle timeout, checked once per timeout (up to a minute).
    const authDeadline = setTimeout(() => {
      if (!session.identity) session.close(CloseCode.authTimeout, AuthFailure.authTimeout);
    }, DEFAULTS.authDeadlineMs).unref();
    ws.on('message', (data, isBinary) => {
      // Closing: only the peer's close frame matters now.
      if (ws.readyState !== ws.OPEN) return;
      if (!isBinary) return session.close(1003, 'binary frames only');
      const frame = toUint8Array(data);
      if (!this.pending.charge(session, frame.byteLength)) return session.close(CloseCode.tooManyUnauthenticated, AuthFailure.tooManyUnauthenticated);
      throttle.admit();
      if (!queries.admit(frame)) return;
      backpressure.push(frame);
    });
    ws.on('close', (code, reason) => {
      clearTimeout(authDeadline);
      backpressure.stop();
      this.pending.leave(session);
      this.sessions.delete(session);
      this.valves.delete(session);
      if (session.identity) this.registry.remove(session.identity.userId, session);
      this.metrics.connections.dec();
      session.clearExpiry();
      client.handleClose({ code, reason: reason.toString() });
    });
    ws.on('error', (error) => this.logger.debug({ err: error }, 'websocket error'));
  }

  /**
   * After a failed append: closes the document's connections (clients resend
   * later) and unloads it, so it is loaded again from what is stored and
   * memory is never left ahead of disk.
   */
  private async reload(documentName: string, replaced: boolean): Promise<void> {
    const document = this.hocuspocus.documents.get(documentName);
    // Renewed by another server (issue 15): the clients open the new epoch, as after a renewal here.
    const close = replaced ? { code: CloseCode.documentRenewed, reason: DocumentRenewalProtocol.reason } : { code: CloseCode.storageUnavailable, reason: ServerFailure.storageUnavailable };
    document?.getConnections().forEach((connection) => connection.close(close));
    try {
      await this.writer.drop(documentName);
      if (document && this.hocuspocus.documents.get(documentName) === document) await this.hocuspocus.unloadDocument(document);
    } catch (error) {
      this.logger.error({ err: error, documentName }, 'unloading a document after a failed write failed');
    }
  }

  private disconnectUser(documentName: string, userId: string): void {
    const document = this.hocuspocus.documents.get(documentName);
    document?.getConnections().forEach((connection) => {
      if ((connection.context as Partial<ConnectionContext>).identity?.userId === userId) {
        connection.close({ code: CloseCode.rejectedUpdate, reason: 'forbidden' });
      }
    });
  }

}

/**
 * The key of signed attachment links: derived from the HMAC token secret when
 * there is one (so links work on every server sharing it), else random per
 * process (links then end with it, which their few minutes allow).
 */
function linkKey(jwtSecret: string | null): Buffer {
  return createHash('sha256').update('parley attachment links\n').update(jwtSecret ?? randomBytes(32)).digest();
}
