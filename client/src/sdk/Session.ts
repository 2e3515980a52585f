import { HocuspocusProviderWebsocket, WebSocketStatus } from '@hocuspocus/provider';
import { AuthFailure, CloseCode, conversationDocName, DEFAULTS, inboxDocName, inboxParts, parseDocName, ServerFailure, type ConversationListItem, type Message, type PresenceEntry } from '@parley/schema';
import { BlockList } from './BlockList';
import { ApiClient } from './ApiClient';
import { AttachGate } from './AttachGate';
import { ConversationHandle } from './ConversationHandle';
import { DocReplica, type ReplicaLink, type ReplicaOptions } from './DocReplica';
import { Emitter } from './Emitter';
import { InboxHandle } from './InboxHandle';
import { MetaStore } from './MetaStore';
import { eraseLocalData } from './eraseLocalData';
import { HistoryCache } from './HistoryCache';
import { OutboxFull, OutsideWindowOutbox, withChange, type OutsideWindowChange, type OutboxRejection } from './OutsideWindowOutbox';
import { recoverFromRejections } from './RejectionRecovery';
import { salvageOwnMessages } from './salvage';
import { replacedQuotes, softDeletedMessages } from './erasedBy';
import { recoverFromRenewals } from './RenewalRecovery';
import { Reposts } from './Reposts';
import { ReactionRemovals } from './ReactionRemovals';
import { watchOutsideChanges } from './OutsideChanges';
import { recoverInboxFromRenewals } from './InboxRenewalRecovery';
import { ReconnectBackoff } from './ReconnectBackoff';
import { TabRelay } from './TabRelay';
import { TokenSource } from './TokenSource';
import type { ConnectionState, ConnectionStatus, Identity, SdkError, SessionToken, TokenFetcher } from './types';

export interface SessionOptions {
  /** The sync endpoint, `ws://HOST:PORT/sync`. */
  url: string;
  /** Origin of the HTTP API, e.g. `http://HOST:PORT` (the API lives under `/api`). */
  apiBase: string;
  /** Who is signed in; known without network, so a session starts offline. */
  identity: Identity;
  /** Gets a fresh token (called before the cached one expires and after a 401). */
  fetchToken: TokenFetcher;
  /** A token already in hand (from storage after a reload). */
  token?: SessionToken | null;
  /** Called with every new token, to keep it across reloads. */
  onToken?: (token: SessionToken) => void;
  /** `WebSocket` from the `ws` package on Node. */
  WebSocketPolyfill?: unknown;
  /** IndexedDB database name prefix; default `parley:<userId>`. */
  storagePrefix?: string;
  /** Keep IndexedDB replicas; default true when IndexedDB exists. */
  persist?: boolean;
  /** Share live state with other tabs of this user; default true when BroadcastChannel exists. */
  tabRelay?: boolean;
  /** Documents authenticating at once on the socket (Hocuspocus refuses more than 100). */
  attachBatch?: number;
  /**
   * How often presence is refreshed over HTTP. The conversation list is not
   * polled: the inbox document's `conversations` map is live and opens new
   * conversations (the list is fetched once per connection, for titles and
   * members of conversations whose replica has not synced yet).
   */
  pollMs?: number;
  /** Follow the browser's online/offline events. Default true in a browser. */
  watchNetwork?: boolean;
}

interface SessionEvents extends Record<string, unknown> {
  /** Something the app shows changed (coalesced per microtask). */
  change: void;
  error: SdkError;
  /**
   * A message outside the live window that this device shows (a cached
   * history page holds it) was changed on the server, by anyone: here it is
   * as it is now (issue 9; the cached pages hold it already).
   */
  messageUpdated: { conversationId: string; message: Message };
}

export interface ConversationEntry {
  id: string;
  title: string;
  kind: string;
  members: string[];
  lastMessage: { author: string; text: string; at: number } | null;
  unread: number;
  pending: number;
  /** Some other member is online (never while `presence` is unknown). */
  online: boolean;
  /** What this device can tell of the other members: `unknown` while it is not connected itself. */
  presence: PresenceState;
  /** The latest time another member was last seen online, when known. */
  lastSeenAt: number | null;
}

export type PresenceState = 'online' | 'offline' | 'unknown';

/**
 * One signed-in user: a token, one socket multiplexing every document, a
 * replica per document opened from IndexedDB before the network, and the
 * handles the app works with. Framework-free: runs in a browser and on Node.
 */
export class Session extends Emitter<SessionEvents> {
  readonly identity: Identity;
  readonly tokens: TokenSource;
  readonly api: ApiClient;
  readonly inbox: InboxHandle;
  /** Issue 14: whom this user blocks (loaded on demand by the app). */
  readonly blocks: BlockList;
  /** Older history pages, cached for offline reading (issue 9). */
  readonly history: HistoryCache;
  /**
   * Changes to messages outside the live window (edits, deletions, reactions), from
   * `changeMessage`, from a handle and from renewal recovery: queued durably, sent over REST (issue 9).
   */
  readonly outbox: OutsideWindowOutbox;
  /** Changes to old messages the server refused (shown to the user, then dropped). */
  readonly outboxRejections: OutboxRejection[] = [];
  readonly errors: SdkError[] = [];
  private readonly socket: HocuspocusProviderWebsocket;
  private readonly gate: AttachGate;
  private readonly meta: MetaStore | null;
  private readonly relay: TabRelay | null;
  private readonly replicas = new Map<string, DocReplica>();
  /** Per conversation: own messages being posted again after a renewal (RenewalRecovery). */
  private readonly reposts = new Map<string, Reposts>();
  private readonly conversations = new Map<string, ConversationHandle>();
  private readonly listInfo = new Map<string, ConversationListItem>();
  private readonly presence = new Map<string, PresenceEntry>();
  /** When each user was last seen on a shared document by this session (fresher than the presence API's poll). */
  private readonly seenHere = new Map<string, number>();
  /** Conversations the server refused (no longer a member): not reopened from lists. */
  private readonly forgotten = new Set<string>();
  private readonly link: ReplicaLink;
  private readonly cleanups: (() => void)[] = [];
  /** The server could not store an update: the replica is kept and the reconnect resends it. */
  private readonly storageRetry = new ReconnectBackoff(() => this.reconnectSocket(), DEFAULTS.storageRetryMs, DEFAULTS.storageRetryMaxMs);
  /** The socket was closed for its rate (4429): nothing was refused, so only wait, longer each time it recurs soon. */
  private readonly rateLimitedRetry = new ReconnectBackoff(
    () => {
      if (!this.forcedOffline && !this.destroyed) this.connectSocket();
    },
    DEFAULTS.clientRateLimitedBackoffMs,
    DEFAULTS.clientRateLimitedBackoffMaxMs,
  );
  private readonly persistOptions: { persist: boolean; prefix: string };
  private disconnectedOnce = false;
  private forcedOffline = false;
  private changeQueued = false;
  private started = false;
  private destroyed = false;

  constructor(readonly options: SessionOptions) {
    super();
    this.identity = options.identity;
    const prefix = options.storagePrefix ?? `parley:${options.identity.userId}`;
    const persist = (options.persist ?? true) && typeof indexedDB !== 'undefined';
    this.tokens = new TokenSource(options.fetchToken, options.token ?? null, 60_000, options.onToken);
    this.api = new ApiClient(options.apiBase, this.tokens);
    this.blocks = new BlockList(this.api);
    this.meta = persist ? new MetaStore(`${prefix}:meta`) : null;
    this.relay = (options.tabRelay ?? true) && typeof BroadcastChannel !== 'undefined' ? new TabRelay(`${prefix}:relay`) : null;
    this.gate = new AttachGate(options.attachBatch ?? Math.floor(DEFAULTS.maxPendingDocuments / 2));
    this.socket = new HocuspocusProviderWebsocket({
      url: options.url,
      autoConnect: false,
      ...(options.WebSocketPolyfill !== undefined && { WebSocketPolyfill: options.WebSocketPolyfill }),
      // Reconnect quickly: a chat user notices a 30 s back-off.
      delay: 500,
      maxDelay: 5_000,
      minDelay: 250,
    });
    this.link = { socket: this.socket, gate: this.gate, token: () => this.tokens.get(), identity: this.identity };
    this.socket.on('status', () => this.changed());
    this.socket.on('connect', () => {
      this.disconnectedOnce = false;
      void this.refreshFromServer();
      void this.outbox.flush();
    });
    this.socket.on('disconnect', () => {
      this.disconnectedOnce = true;
      this.gate.reset();
      this.changed();
    });
    this.socket.on('close', ({ event }: { event?: { code?: number } }) => {
      if (event?.code === CloseCode.rateLimited) this.backOffRateLimited();
    });
    this.persistOptions = { persist, prefix };
    this.history = new HistoryCache(`${prefix}:history`, persist, (conversationId, before, limit) => this.api.history(conversationId, before, limit));
    this.outbox = new OutsideWindowOutbox(`${prefix}:outbox`, persist, this.api, {
      onRejected: (rejection) => {
        this.outboxRejections.push(rejection);
        this.reportError({ docName: conversationDocName(rejection.conversationId), reason: rejection.code, recovery: 'none', at: Date.now() });
        this.changed();
      },
    });
    this.inbox = new InboxHandle(this.openReplica(inboxDocName(this.identity.userId)));
    this.inbox.on('change', () => this.openListedConversations());
  }

  /**
   * Opens everything known locally (works offline, from the first paint),
   * then connects. Resolves once the local replicas are loaded.
   */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    for (const id of (await this.meta?.readConversationIds()) ?? []) this.conversation(id);
    await this.inbox.replica.whenLoaded();
    this.openListedConversations();
    await Promise.all([...this.replicas.values()].map((replica) => replica.whenLoaded()));
    if (this.destroyed) return;
    globalThis.performance?.mark?.('parley:replicas-loaded', { detail: { documents: this.replicas.size } });
    this.watchNetwork();
    const poll = setInterval(() => void this.refreshPresence(), this.options.pollMs ?? 5_000);
    this.cleanups.push(() => clearInterval(poll));
    if (!this.forcedOffline) this.connectSocket();
    this.changed();
  }

  /**
   * Edits, soft-deletes or reacts to a message: in the live replica when it
   * is there (a Yjs change, pending until acknowledged, like any), else
   * through the outbox (REST, queued durably while offline) with the cached
   * history showing the change at once.
   */
  async changeMessage(conversationId: string, messageId: string, change: OutsideWindowChange): Promise<'live' | 'queued'> {
    const chat = this.conversations.get(conversationId);
    if (chat?.holds(messageId) && changeLive(chat, messageId, change)) return 'live';
    await this.queueOutsideWindow(conversationId, messageId, change);
    return 'queued';
  }

  /** A change of a message outside the live window: into the outbox, and into the cached history page that shows it. */
  private async queueOutsideWindow(conversationId: string, messageId: string, change: OutsideWindowChange): Promise<void> {
    // An own message being posted again after a renewal is in neither the window nor the server's history yet.
    if (this.reposts.get(conversationId)?.follow(messageId, change)) return;
    await this.outbox.enqueue(conversationId, messageId, change);
    if (change.op === 'delete') await this.eraseCopies(conversationId, [messageId]);
    else await this.history.patch(conversationId, messageId, (m) => withChange(m, this.identity.userId, change));
  }

  /**
   * A message was soft-deleted: its cached history copies lose the text (as
   * the server's copy did), and a queued edit of it, whose text would wait
   * on disk to be sent and refused, is dropped.
   */
  private async eraseCopies(conversationId: string, messageIds: readonly string[]): Promise<void> {
    for (const messageId of messageIds) {
      await this.outbox.dropEdit(conversationId, messageId);
      await this.history.patch(conversationId, messageId, (m) => withChange(m, this.identity.userId, { op: 'delete' }, m.deletedAt ?? Date.now()));
    }
  }

  /**
   * The server announced a change to a message outside the live window
   * (OutsideChanges): if this device shows it (a cached history page holds
   * it), it is fetched again, the cached copies replaced and `messageUpdated`
   * emitted. Offline or refused: the cached copy stays as it was.
   */
  private async refreshOlderMessage(conversationId: string, messageId: string): Promise<void> {
    if (!(await this.history.holds(conversationId, messageId))) return;
    const fetched = await this.api.message(conversationId, messageId).catch(() => null);
    if (!fetched || this.destroyed) return;
    await this.history.patch(conversationId, messageId, () => fetched.message);
    this.emit('messageUpdated', { conversationId, message: fetched.message });
  }

  /**
   * refreshOlderMessage, from an announcement nobody awaits. A cache that
   * cannot be read or patched keeps its copy (the next announcement or page
   * load refreshes it); that includes a session destroyed in the middle of the
   * patch, whose database is closed under it (an unhandled InvalidStateError
   * seen under load in e2e/outside-window-live.test.ts).
   */
  private refreshOlderMessageLater(conversationId: string, messageId: string): void {
    this.refreshOlderMessage(conversationId, messageId).catch((error: unknown) => {
      if (!this.destroyed) console.warn(`parley: could not refresh the cached copy of message ${messageId}`, error);
    });
  }

  /** The same, from a handle or renewal recovery, which cannot wait: a full outbox is reported as an error. */
  private queueOutsideWindowLater(conversationId: string, messageId: string, change: OutsideWindowChange): void {
    this.queueOutsideWindow(conversationId, messageId, change).catch((error: unknown) => {
      const reason = error instanceof OutboxFull ? 'outbox-full' : String(error);
      this.reportError({ docName: conversationDocName(conversationId), reason, recovery: 'none', at: Date.now() });
    });
  }

  /** The handle of a conversation, opening its replica if needed. */
  conversation(id: string): ConversationHandle {
    let handle = this.conversations.get(id);
    if (!handle) {
      this.forgotten.delete(id);
      const replica = this.openReplica(conversationDocName(id));
      handle = new ConversationHandle(id, replica, this.identity.userId, (messageId, change) => this.queueOutsideWindowLater(id, messageId, change));
      this.conversations.set(id, handle);
      handle.on('change', () => this.changed());
      void this.meta?.writeConversationIds([...this.conversations.keys()]);
      this.changed();
    }
    return handle;
  }

  hasConversation(id: string): boolean {
    return this.conversations.has(id);
  }

  conversationIds(): string[] {
    return [...this.conversations.keys()];
  }

  /** Conversations for a list view, most recent activity first. */
  conversationList(): ConversationEntry[] {
    const summaries = this.inbox.snapshot().conversations;
    const entries = [...this.conversations.values()].map((handle): ConversationEntry => {
      const snap = handle.snapshot();
      const info = this.listInfo.get(handle.id);
      const summary = summaries[handle.id];
      const members = Object.keys(snap.members).length > 0 ? Object.keys(snap.members) : (info?.members ?? []);
      const others = members.filter((m) => m !== this.identity.userId);
      const last = snap.lastMessage
        ? { author: snap.lastMessage.author, text: snap.lastMessage.deletedAt ? '(deleted)' : snap.lastMessage.text, at: snap.lastMessage.createdAt }
        : (info?.lastMessage ?? summary?.lastMessage ?? null);
      const kind = snap.meta?.kind ?? info?.kind ?? 'direct';
      const title = (kind !== 'direct' && (snap.meta?.title || info?.title || summary?.title)) || others.join(', ') || snap.meta?.title || info?.title || handle.id;
      return {
        id: handle.id,
        title,
        kind,
        members,
        lastMessage: last,
        unread: snap.messages.length > 0 || snap.synced ? snap.unread : (info?.unread ?? summary?.unread ?? 0),
        pending: snap.pending,
        ...this.presenceOfAll(others),
      };
    });
    return entries.sort((a, b) => (b.lastMessage?.at ?? 0) - (a.lastMessage?.at ?? 0) || a.id.localeCompare(b.id));
  }

  /** Online: present on a shared document right now, or so says the presence API. */
  isOnline(userId: string): boolean {
    for (const handle of this.conversations.values()) {
      if (handle.snapshot().here.includes(userId)) {
        this.seenHere.set(userId, Date.now());
        return true;
      }
    }
    return this.presence.get(userId)?.online ?? false;
  }

  /**
   * A user's presence as this device can know it. While this session is not
   * connected, what it last heard may be stale (the user left, the server is
   * down): it says `unknown` instead of a green dot. Last seen is the later
   * of the presence API's and this session's own sighting.
   */
  presenceOf(userId: string): { presence: PresenceState; lastSeenAt: number | null } {
    const state = this.connectionState();
    const known = state === 'synced' || state === 'syncing';
    const online = known && this.isOnline(userId);
    const times = [this.presence.get(userId)?.lastSeenAt ?? null, this.seenHere.get(userId) ?? null].filter((t): t is number => t !== null);
    return { presence: !known ? 'unknown' : online ? 'online' : 'offline', lastSeenAt: times.length > 0 ? Math.max(...times) : null };
  }

  private presenceOfAll(users: string[]): Pick<ConversationEntry, 'online' | 'presence' | 'lastSeenAt'> {
    const each = users.map((user) => this.presenceOf(user));
    const presence: PresenceState = each.some((p) => p.presence === 'unknown') ? 'unknown' : each.some((p) => p.presence === 'online') ? 'online' : 'offline';
    const times = each.flatMap((p) => (p.lastSeenAt === null ? [] : [p.lastSeenAt]));
    return { online: presence === 'online', presence, lastSeenAt: times.length > 0 ? Math.max(...times) : null };
  }

  connection(): ConnectionStatus {
    let pendingMessages = 0;
    let savingMessages = 0;
    for (const handle of this.conversations.values()) {
      const snap = handle.snapshot();
      pendingMessages += snap.pending;
      savingMessages += snap.saving;
    }
    let docsWithLocalChanges = 0;
    for (const replica of this.replicas.values()) if (replica.hasLocalChanges) docsWithLocalChanges++;
    return { state: this.connectionState(), pendingMessages, savingMessages, docsWithLocalChanges };
  }

  private connectionState(): ConnectionState {
    if (this.forcedOffline) return 'offline';
    const ws = this.socket.webSocket;
    // The provider still says "connected" while a close is under way: trust the socket itself.
    if (this.socket.status === WebSocketStatus.Connected && ws && ws.readyState === ws.OPEN) {
      for (const replica of this.replicas.values()) {
        if (replica.refused) continue;
        if (!replica.serverSynced || replica.unsyncedChanges > 0 || replica.hasLocalChanges) return 'syncing';
      }
      return 'synced';
    }
    return this.disconnectedOnce ? 'offline' : 'connecting';
  }

  /** Resolves when every document is synced and acknowledged. */
  whenSynced(): Promise<void> {
    return this.waitFor(() => this.connection().state === 'synced');
  }

  waitFor(test: () => boolean): Promise<void> {
    if (test()) return Promise.resolve();
    return new Promise((resolve) => {
      const off = this.on('change', () => {
        if (test()) {
          off();
          resolve();
        }
      });
    });
  }

  /** Starts a direct conversation with another user (get-or-create). */
  async startDirect(otherUserId: string): Promise<string> {
    const { id } = await this.api.createConversation({ members: [this.identity.userId, otherUserId], kind: 'direct' });
    this.conversation(id);
    void this.refreshFromServer();
    return id;
  }

  /** Starts a group with `others` (the caller is added by the server) and a title. */
  async createGroup(others: string[], title: string): Promise<string> {
    const { id } = await this.api.createConversation({ members: others, title, kind: 'group' });
    this.conversation(id);
    void this.refreshFromServer();
    return id;
  }

  async addMember(conversationId: string, userId: string): Promise<void> {
    await this.api.addMember(conversationId, userId);
  }

  async removeMember(conversationId: string, userId: string): Promise<void> {
    await this.api.removeMember(conversationId, userId);
  }

  async rename(conversationId: string, title: string): Promise<void> {
    await this.api.rename(conversationId, title);
  }

  /** Leaves a conversation: the server drops the membership, this device drops its replica. */
  async leave(conversationId: string): Promise<void> {
    await this.api.removeMember(conversationId, this.identity.userId);
    this.forgotten.add(conversationId);
    const handle = this.conversations.get(conversationId);
    if (!handle) return;
    this.conversations.delete(conversationId);
    this.listInfo.delete(conversationId);
    this.replicas.delete(handle.replica.name);
    handle.dispose();
    void this.meta?.writeConversationIds([...this.conversations.keys()]);
    await handle.replica.discard();
    this.changed();
  }

  /**
   * Signing out: stops everything, then erases this user's data on this
   * device (every IndexedDB database under the session's prefix: replicas and
   * the meta store). Resolves with how many databases were erased.
   */
  async signOut(): Promise<number> {
    const names = [...this.replicas.keys()].map((name) => `${this.persistOptions.prefix}:${name}`);
    await this.destroy();
    if (!this.persistOptions.persist) return 0;
    return eraseLocalData(this.persistOptions.prefix, [...names, `${this.persistOptions.prefix}:meta`, this.history.dbName, this.outbox.dbName]);
  }

  /** Drops the connection on purpose (and keeps it down until `goOnline`). */
  goOffline(): void {
    this.forcedOffline = true;
    this.socket.disconnect();
    this.changed();
  }

  goOnline(): void {
    this.forcedOffline = false;
    if (this.started) this.connectSocket();
    this.changed();
  }

  /**
   * Connects, or reconnects once a close under way has landed: the provider's
   * `connect()` returns early while its status still says connected, which
   * would leave the socket down for good after a quick offline/online flip.
   */
  private connectSocket(): void {
    const ws = this.socket.webSocket;
    if (this.socket.status === WebSocketStatus.Connected && ws && ws.readyState !== ws.OPEN) {
      const once = () => {
        this.socket.off('disconnect', once);
        if (!this.forcedOffline && !this.destroyed) void this.socket.connect();
      };
      this.socket.on('disconnect', once);
      return;
    }
    void this.socket.connect();
  }

  /**
   * The server closed the socket for its rate (4429): nothing was refused and
   * every replica is intact, so only wait before reconnecting, longer each
   * time it happens again soon (instead of the provider's quick retry, which
   * would go straight back over the rate).
   */
  private backOffRateLimited(): void {
    // Disconnect first: the provider's own quick retry would go straight back over the rate.
    this.socket.disconnect();
    this.rateLimitedRetry.failed();
    this.changed();
  }

  /**
   * A fresh socket: after a document was refused, the server does not take
   * that document again on the same socket.
   */
  private reconnectSocket(): void {
    if (this.forcedOffline || this.destroyed) return;
    this.socket.disconnect();
    this.connectSocket();
  }

  async destroy(): Promise<void> {
    this.outbox.stop();
    if (this.destroyed) return;
    this.destroyed = true;
    this.rateLimitedRetry.stop();
    this.storageRetry.stop();
    for (const cleanup of this.cleanups.splice(0)) cleanup();
    for (const handle of this.conversations.values()) handle.dispose();
    this.inbox.dispose();
    const closing = [...this.replicas.values()].map((replica) => replica.destroy());
    await this.settleSocket();
    this.socket.destroy();
    await Promise.all(closing);
    this.relay?.close();
    await this.meta?.close();
    await Promise.all([this.history.close(), this.outbox.close()]);
    this.clear();
  }

  /**
   * Closing a socket that is still connecting makes `ws` reject the
   * provider's connection attempt where nobody handles it; let it settle first.
   */
  private async settleSocket(): Promise<void> {
    const ws = this.socket.webSocket;
    if (!ws || ws.readyState !== ws.CONNECTING) return;
    await new Promise<void>((resolve) => {
      const done = () => resolve();
      ws.addEventListener('open', done, { once: true });
      ws.addEventListener('close', done, { once: true });
      ws.addEventListener('error', done, { once: true });
      setTimeout(done, 2_000);
    });
  }

  private openReplica(name: string): DocReplica {
    const { persist, prefix } = this.persistOptions;
    const isConversation = parseDocName(name)?.type === 'conversation';
    const tries = new Map<string, number>();
    const salvage: ReplicaOptions['salvage'] = isConversation ? (doc, ack) => salvageOwnMessages(doc, ack, this.identity.userId, tries) : undefined;
    const erasedBy = isConversation ? softDeletedMessages : replacedQuotes;
    const replica = new DocReplica({ name, storagePrefix: prefix, meta: this.meta, relay: this.relay, persist, salvage, erasedBy });
    this.replicas.set(name, replica);
    replica.on('change', () => this.changed());
    recoverFromRejections(replica, (error) => this.reportError(error));
    // Bounded live document (issue 9, item 2): a renewal rebuilds the replica and makes again what was not acknowledged.
    const conversation = parseDocName(name);
    if (conversation?.type === 'conversation') {
      // A soft deletion (own, another member's, a moderator's) also leaves this device's other copies of the message.
      replica.on('erased', (messageIds) => void this.eraseCopies(conversation.id, messageIds));
      const reposts = new Reposts();
      this.reposts.set(conversation.id, reposts);
      recoverFromRenewals(replica, {
        conversationId: conversation.id,
        reposts,
        me: this.identity.userId,
        api: this.api,
        removals: new ReactionRemovals(replica, this.identity.userId, this.meta),
        outside: (messageId, change) => this.queueOutsideWindowLater(conversation.id, messageId, change),
        report: (error) => this.reportError(error),
      });
      watchOutsideChanges(replica, (messageId) => this.refreshOlderMessageLater(conversation.id, messageId));
    }
    // The inbox is renewed too, at the clean-up (issue 9, the bounded inbox).
    if (conversation?.type === 'inbox') recoverInboxFromRenewals(replica, (error) => this.reportError(error));
    replica.on('reset', () => this.reconnectSocket());
    const refused = (reason: string) => {
      const doc = parseDocName(name);
      if (doc?.type === 'conversation' && reason === AuthFailure.forbidden) void this.forget(doc.id, reason);
      else if (reason === ServerFailure.storageUnavailable) this.storageRetry.failed();
      else this.reportError({ docName: name, reason, recovery: 'none', at: Date.now() });
    };
    replica.on('authenticationFailed', refused);
    replica.on('closed', ({ reason }) => {
      if (reason === AuthFailure.forbidden) refused(reason);
      // Nothing refused: the replica stays, and the next sync resends what the server lacks.
      if (reason === ServerFailure.storageUnavailable || reason === ServerFailure.resyncNeeded) this.storageRetry.failed();
    });
    void replica.whenLoaded().then(() => {
      if (!this.destroyed) replica.connect(this.link);
    });
    return replica;
  }

  private openListedConversations(): void {
    const listed = inboxParts(this.inbox.replica.doc).conversations;
    for (const id of listed.keys()) if (!this.conversations.has(id) && !this.forgotten.has(id)) this.conversation(id);
  }

  /** The server says this user may not open the conversation (removed from it): drop it and its local replica. */
  private async forget(id: string, reason: string): Promise<void> {
    const handle = this.conversations.get(id);
    if (!handle) return;
    this.forgotten.add(id);
    this.conversations.delete(id);
    this.listInfo.delete(id);
    this.replicas.delete(handle.replica.name);
    handle.dispose();
    void this.meta?.writeConversationIds([...this.conversations.keys()]);
    this.reportError({ docName: handle.replica.name, reason, recovery: 'forgotten', at: Date.now() });
    await handle.replica.discard();
  }

  private async refreshFromServer(): Promise<void> {
    if (this.destroyed || this.socket.status !== WebSocketStatus.Connected) return;
    try {
      const list = await this.api.listConversations();
      for (const item of list) {
        this.listInfo.set(item.id, item);
        if (!this.forgotten.has(item.id)) this.conversation(item.id);
      }
      this.changed();
      await this.refreshPresence();
    } catch {
      // Offline or server busy: the next reconnect tries again (the inbox document keeps the list live meanwhile).
    }
  }

  /** Presence of the people the user shares conversations with (who is online beyond the open documents). */
  private async refreshPresence(): Promise<void> {
    if (this.destroyed || this.socket.status !== WebSocketStatus.Connected) return;
    const others = new Set<string>();
    for (const handle of this.conversations.values()) for (const member of Object.keys(handle.snapshot().members)) others.add(member);
    for (const item of this.listInfo.values()) for (const member of item.members) others.add(member);
    others.delete(this.identity.userId);
    if (others.size === 0) return;
    try {
      const presence = await this.api.presence([...others].slice(0, 64));
      for (const [user, entry] of Object.entries(presence)) this.presence.set(user, entry);
      this.changed();
    } catch {
      // Offline or server busy: the next tick tries again.
    }
  }

  private watchNetwork(): void {
    if (!(this.options.watchNetwork ?? typeof window !== 'undefined') || typeof window === 'undefined') return;
    const offline = () => this.goOffline();
    const online = () => this.goOnline();
    window.addEventListener('offline', offline);
    window.addEventListener('online', online);
    this.cleanups.push(() => {
      window.removeEventListener('offline', offline);
      window.removeEventListener('online', online);
    });
    if (typeof navigator !== 'undefined' && navigator.onLine === false) this.forcedOffline = true;
  }

  private reportError(error: SdkError): void {
    this.errors.push(error);
    if (this.errors.length > 50) this.errors.shift();
    this.emit('error', error);
    this.changed();
  }

  /** Coalesces change notifications: many document updates, one re-render. */
  private changed(): void {
    if (this.changeQueued) return;
    this.changeQueued = true;
    queueMicrotask(() => {
      this.changeQueued = false;
      if (!this.destroyed) this.emit('change', undefined);
    });
  }
}

/** The change on the live replica; false when the message is not in it. */
function changeLive(chat: ConversationHandle, messageId: string, change: OutsideWindowChange): boolean {
  switch (change.op) {
    case 'edit':
      return chat.edit(messageId, change.text);
    case 'delete':
      return chat.remove(messageId);
    case 'reaction':
      return chat.react(messageId, change.emoji, change.on);
  }
}
