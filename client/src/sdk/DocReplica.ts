import * as Y from 'yjs';
import { IndexeddbPersistence } from 'y-indexeddb';
import type { HocuspocusProviderWebsocket } from '@hocuspocus/provider';
import type { Awareness } from 'y-protocols/awareness';
import { closeCodeOf } from '@parley/schema';
import { Emitter } from './Emitter';
import { covers, hasUncovered, mergeVectors, type StateVector } from './AckVector';
import type { AttachGate } from './AttachGate';
import { LocalDurability } from './LocalDurability';
import { LocalCompaction } from './LocalCompaction';
import type { ErasedBy } from './erasedBy';
import type { MetaStore } from './MetaStore';
import { ParleyProvider } from './ParleyProvider';
import type { TabRelay } from './TabRelay';
import type { Identity } from './types';
import type { Change } from './salvage';

export interface ReplicaOptions {
  name: string;
  /** Prefix of the IndexedDB database names, per user. */
  storagePrefix: string;
  meta: MetaStore | null;
  relay: TabRelay | null;
  /** Keep an IndexedDB replica (off in tests that want a memory-only client). */
  persist: boolean;
  /** After a refusal: the local changes worth making again on the rebuilt replica. */
  salvage?: (doc: Y.Doc, ack: StateVector) => Change[];
  /** What a change overwrote that must leave this device (by document kind): compacts the local replica, emits `erased`. */
  erasedBy?: ErasedBy;
}

export interface ReplicaLink {
  socket: HocuspocusProviderWebsocket;
  gate: AttachGate;
  token: () => Promise<string>;
  identity: Identity;
}

interface ReplicaEvents extends Record<string, unknown> {
  /** Content, acknowledgement, awareness or sync state changed. */
  change: void;
  /** The server closed this document, or its socket, with this code (as the server meant it: see `closeCodeOf`) and reason. */
  closed: { code: number; reason: string };
  authenticationFailed: string;
  /** The server acknowledged every update sent on this connection: deletions (no clock of their own) are stored too. */
  acknowledged: void;
  /** The replica was dropped and rebuilt: listeners holding the old doc must rebind. */
  reset: void;
  /** A change overwrote text that must not stay on this device (see ReplicaOptions.erasedBy): these ids. */
  erased: string[];
}

/**
 * One document: a Y.Doc, its IndexedDB replica (loaded before the network),
 * its provider on the session's shared socket, and the acknowledged state
 * vector that tells which local changes the server holds.
 */
export class DocReplica extends Emitter<ReplicaEvents> {
  doc = new Y.Doc();
  provider: ParleyProvider | null = null;
  ack: StateVector = new Map();
  /** Bumped when the document or its acknowledgement changes (not on awareness), so views cache by it. */
  contentVersion = 0;
  /** First sync with the server done on the current connection. */
  serverSynced = false;
  /** The server refused this document at authentication (not a member, say). */
  refused = false;
  private persistence: IndexeddbPersistence | null = null;
  /** What is committed to IndexedDB; null without a local replica. */
  private durability: LocalDurability | null = null;
  /** Rewrites the IndexedDB replica without overwritten text; null without a local replica. */
  private compaction: LocalCompaction | null = null;
  private link: ReplicaLink | null = null;
  private leaveRelay: (() => void) | null = null;
  private typing = false;
  private ackWrite: ReturnType<typeof setTimeout> | null = null;
  private loaded: Promise<void>;
  private destroyed = false;
  /** Changes made while the replica is being rebuilt after a refusal; replayed on the rebuilt one. */
  private held: Change[] | null = null;
  /** Rebuilds begun so far: a step of an older one that finds a newer one under way stops. */
  private rebuilds = 0;
  /**
   * The salvaged changes of the rebuild under way, until they are made on the
   * rebuilt replica. A second rebuild that begins first (a renewal right after
   * the replica synced, its close in the same network read as the sync)
   * carries them over: they are in neither replica otherwise, and the
   * renewal fuzz lost an offline round's messages that way.
   */
  private replaying: Change[] = [];

  constructor(readonly options: ReplicaOptions) {
    super();
    this.loaded = this.load();
  }

  /** Destroyed or discarded: nothing more is written to it or synced. */
  get isDestroyed(): boolean {
    return this.destroyed;
  }

  get name(): string {
    return this.options.name;
  }

  /**
   * Makes a local change: at once, or, while the replica is being rebuilt
   * after a refusal, on the rebuilt replica once it has synced (undefined then).
   */
  write<T>(change: (doc: Y.Doc) => T): T | undefined {
    if (this.held) {
      this.held.push(change);
      return undefined;
    }
    return change(this.doc);
  }

  /** From now until the rebuild after a refusal, changes wait for the rebuilt replica (see write). */
  hold(): void {
    this.held ??= [];
  }

  /** Resolves once the local replica is in memory; works with no network. */
  whenLoaded(): Promise<void> {
    return this.loaded;
  }

  get awareness(): Awareness | null {
    return this.provider?.awareness ?? null;
  }

  get unsyncedChanges(): number {
    return this.provider?.unsyncedChanges ?? 0;
  }

  /**
   * The item is committed to this device's IndexedDB replica. Always true
   * without a replica (`persist: false`): there is no local write to wait for.
   */
  isLocallyDurable(id: Y.ID): boolean {
    if (!this.keepsLocalReplica) return true;
    return this.durability !== null && covers(this.durability.vector, id);
  }

  /** Something local the server has not acknowledged. */
  get hasLocalChanges(): boolean {
    return hasUncovered(this.doc, this.ack);
  }

  private get keepsLocalReplica(): boolean {
    return this.options.persist && typeof indexedDB !== 'undefined';
  }

  private async load(): Promise<void> {
    const { storagePrefix, name, meta } = this.options;
    this.options.erasedBy?.define(this.doc);
    this.doc.on('update', this.onUpdate);
    this.doc.on('afterTransaction', this.onTransaction);
    this.doc.on('afterTransaction', this.onErasing);
    if (this.keepsLocalReplica) {
      this.persistence = new IndexeddbPersistence(`${storagePrefix}:${name}`, this.doc);
      const durability = new LocalDurability(this.doc, this.persistence, this.onDurable);
      this.durability = durability;
      this.compaction = new LocalCompaction(this.persistence);
      const [, ack] = await Promise.all([this.persistence.whenSynced, meta?.readAck(name) ?? new Map()]);
      mergeVectors(this.ack, ack);
      durability.start();
      void this.compaction?.resume();
    }
    if (this.destroyed) return;
    if (this.options.relay) {
      this.leaveRelay = this.options.relay.join(name, {
        doc: () => this.doc,
        mergeAck: (vector) => this.mergeAck(vector, false),
        resetFromPeer: () => void this.reset(false),
      });
    }
    this.emit('change', undefined);
  }

  /** Attaches to the session's socket. Call after `whenLoaded` so the first sync sends only the difference. */
  connect(link: ReplicaLink): void {
    this.link = link;
    if (this.destroyed) return;
    // A provider torn down by a reset must not speak for the rebuilt document.
    const current = () => this.provider === provider;
    const provider: ParleyProvider = new ParleyProvider(
      { name: this.name, document: this.doc, websocketProvider: link.socket, token: link.token },
      link.gate,
      (vector) => {
        if (!current()) return;
        this.mergeAck(vector, true);
        if (provider.unsyncedChanges === 0 && provider.handshakeComplete) this.emit('acknowledged', undefined);
      },
    );
    this.provider = provider;
    provider.awareness?.setLocalState({ user: { id: link.identity.userId, name: link.identity.name }, typing: this.typing });
    provider.on('synced', () => {
      if (!current()) return;
      this.serverSynced = true;
      this.emit('change', undefined);
    });
    provider.on('unsyncedChanges', () => {
      if (current()) this.emit('change', undefined);
    });
    provider.on('close', ({ event }: { event: { code?: number; reason?: string } }) => {
      this.serverSynced = false;
      this.emit('change', undefined);
      if (event.reason) this.emit('closed', { code: closeCodeOf(event), reason: event.reason });
    });
    provider.on('authenticated', () => {
      this.refused = false;
    });
    provider.on('authenticationFailed', ({ reason }: { reason: string }) => {
      this.refused = true;
      this.emit('authenticationFailed', reason);
      this.emit('change', undefined);
    });
    provider.awareness?.on('change', this.onAwareness);
    provider.attach();
  }

  setTyping(typing: boolean): void {
    this.typing = typing;
    this.provider?.setAwarenessField('typing', typing);
  }

  /** Resolves once the first sync with the server completed (use with a timeout). */
  whenServerSynced(): Promise<void> {
    if (this.serverSynced) return Promise.resolve();
    return new Promise((resolve) => {
      const off = this.on('change', () => {
        if (this.serverSynced) {
          off();
          resolve();
        }
      });
    });
  }

  /** Merges news of what the server holds; `share` tells other tabs too. */
  mergeAck(vector: StateVector, share: boolean): void {
    if (!mergeVectors(this.ack, vector)) return;
    if (share) this.options.relay?.publishAck(this.name, this.ack);
    this.scheduleAckWrite();
    this.contentVersion++;
    this.emit('change', undefined);
  }

  /**
   * Drops the local replica (memory and IndexedDB) and resyncs from the
   * server: the recovery from a refused update, whose bytes would otherwise
   * be resent and refused forever. `tellTabs` makes other tabs do the same.
   */
  async reset(tellTabs = true, salvage = this.options.salvage): Promise<void> {
    if (this.destroyed) return;
    this.hold();
    // Only the tab that was refused salvages: two tabs posting the same messages again would race.
    // (After a renewal, `salvage` is the renewal's: RenewalRecovery.)
    const salvaged = tellTabs ? (salvage?.(this.doc, this.ack) ?? []) : [];
    const rebuild = ++this.rebuilds;
    this.replaying.push(...salvaged);
    if (tellTabs) this.options.relay?.publishReset(this.name);
    this.teardownProvider();
    this.leaveRelay?.();
    this.doc.off('update', this.onUpdate);
    this.doc.off('afterTransaction', this.onTransaction);
    this.doc.off('afterTransaction', this.onErasing);
    this.closeDurability();
    await this.persistence?.clearData();
    this.persistence = null;
    await this.options.meta?.deleteAck(this.name);
    if (rebuild !== this.rebuilds) return;
    this.doc.destroy();
    this.doc = new Y.Doc();
    this.ack = new Map();
    this.contentVersion++;
    this.serverSynced = false;
    this.loaded = this.load();
    await this.loaded;
    if (rebuild !== this.rebuilds) return;
    this.emit('reset', undefined);
    if (this.link) this.connect(this.link);
    void this.replayAfterSync(rebuild);
  }

  /** Makes the salvaged and held changes on the rebuilt replica, once it holds the server's state. */
  private async replayAfterSync(rebuild: number): Promise<void> {
    await this.whenServerSynced();
    // A newer rebuild began meanwhile: it makes these changes, with its own, once it is synced.
    if (this.destroyed || rebuild !== this.rebuilds) return;
    const changes = [...this.replaying, ...(this.held ?? [])];
    this.replaying = [];
    this.held = null;
    this.doc.transact(() => {
      for (const change of changes) change(this.doc);
    });
  }

  /** Stops syncing and deletes the local replica: the user lost access to the document. */
  async discard(): Promise<void> {
    if (this.ackWrite) clearTimeout(this.ackWrite);
    this.ackWrite = null;
    const persistence = this.persistence;
    this.persistence = null;
    await this.destroy();
    await persistence?.clearData();
    await this.options.meta?.deleteAck(this.name);
  }

  /** Stops syncing and closes the IndexedDB replica; resolves once the last writes landed. */
  async destroy(): Promise<void> {
    this.destroyed = true;
    this.compaction?.flush();
    this.teardownProvider();
    this.leaveRelay?.();
    this.doc.off('update', this.onUpdate);
    this.doc.off('afterTransaction', this.onTransaction);
    this.doc.off('afterTransaction', this.onErasing);
    this.closeDurability();
    this.clear();
    const writes: Promise<unknown>[] = [];
    if (this.ackWrite) {
      clearTimeout(this.ackWrite);
      this.ackWrite = null;
      if (this.options.meta) writes.push(this.options.meta.writeAck(this.name, this.ack));
    }
    if (this.persistence) writes.push(this.persistence.destroy());
    await Promise.all(writes);
  }

  private teardownProvider(): void {
    if (!this.provider) return;
    this.provider.awareness?.off('change', this.onAwareness);
    this.provider.destroy();
    this.provider = null;
  }

  private onUpdate = (update: Uint8Array, origin: unknown): void => {
    const relay = this.options.relay;
    if (relay && !relay.isOrigin(origin)) relay.publishUpdate(this.name, update);
    this.contentVersion++;
    this.emit('change', undefined);
  };

  /**
   * A transaction from the server: for every client it advanced, the server
   * holds that client's items up to the new clock (Yjs integrates a client's
   * items in order). `encodeStateVectorFromUpdate` is no help here: it only
   * counts clients whose items in the update start at clock 0.
   */
  private onTransaction = (transaction: Y.Transaction): void => {
    if (!this.provider || transaction.origin !== this.provider) return;
    const advanced: StateVector = new Map();
    for (const [client, clock] of transaction.afterState) if ((transaction.beforeState.get(client) ?? 0) < clock) advanced.set(client, clock);
    if (advanced.size > 0) this.mergeAck(advanced, false);
  };

  /** A change (local, remote or from another tab) that overwrote text which must leave this device. */
  private onErasing = (transaction: Y.Transaction): void => {
    const erasedBy = this.options.erasedBy;
    // Loading the replica (or a compaction reading the log back) erases nothing new.
    if (!erasedBy || (this.persistence !== null && transaction.origin === this.persistence)) return;
    const ids = erasedBy.erased(transaction, this.doc);
    if (ids.length === 0) return;
    this.compaction?.schedule();
    this.emit('erased', ids);
  };

  private onAwareness = (): void => this.emit('change', undefined);

  private onDurable = (): void => {
    this.contentVersion++;
    this.emit('change', undefined);
  };

  private closeDurability(): void {
    this.durability?.close();
    this.durability = null;
    this.compaction?.close();
    this.compaction = null;
  }

  private scheduleAckWrite(): void {
    if (this.ackWrite || !this.options.meta) return;
    this.ackWrite = setTimeout(() => {
      this.ackWrite = null;
      void this.options.meta?.writeAck(this.name, this.ack);
    }, 50);
  }
}
