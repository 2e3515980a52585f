import type { Document, Hocuspocus } from '@hocuspocus/server';
import { CloseCode, DEFAULTS, DocumentRenewal as Protocol, parseDocName } from '@parley/schema';
import type { Logger } from '../../logger';
import type { DocumentStore, StoredDocument } from '../../storage/Storage';
import { SERVER_WRITER } from '../validation/ClientBindings';
import { freshWindow, type FreshWindow } from './freshWindow';
import * as Y from 'yjs';
import { freshInbox, inboxOutgrown } from './freshInbox';
import { outgrown } from './outgrown';

/** What the renewal needs from the write pipeline (PersistenceExtension). */
export interface RenewalGate {
  beginRenewal(documentName: string, document: Document): boolean;
  abandonRenewal(document: Document): void;
}

export interface RenewalSettings {
  /** Messages kept (DEFAULTS.liveWindowMessages, or the LIVE_WINDOW_MESSAGES override). */
  window: number;
  /** Renewed once it holds more than window x factor. */
  factor: number;
}

/** How often, and how long apart, the sealed old document's late connections are closed before it is destroyed anyway (a minute). */
const EVICT_ATTEMPTS = 600;
const EVICT_RETRY_MS = 100;

export const defaultRenewalSettings: RenewalSettings = { window: DEFAULTS.liveWindowMessages, factor: DEFAULTS.liveRenewalFactor };

/**
 * Keeps `conversation:<id>` bounded (issue 9, item 2): once it holds more
 * than `factor` windows of messages it is renewed into a fresh document with
 * the newest window, and its old epoch is retired:
 *
 *   1. (one synchronous stretch) the write pipeline stops taking updates for
 *      it (client updates are closed with `document-renewed`), the fresh
 *      window is taken from the document as it is in memory, and the renewal
 *      is queued in the group commit, after every append before it;
 *   2. one transaction replaces snapshot and log by the fresh document and
 *      retires the client ids of the old epoch (DocumentStore.renew): a
 *      `kill -9` leaves the old epoch or the new one, never a mix, and loses
 *      nothing, since every message is in the message index already;
 *   3. every connection is closed with `document-renewed`, the document is
 *      unloaded, and the next open loads the fresh one. A replica of the old
 *      epoch is recognised at its sync step 1 (ValidationExtension) and closed
 *      the same way, so it never merges into the new epoch.
 *
 * One renewal at a time, server-wide: each costs O(window).
 *
 * `inbox:<userId>` is renewed the same way (issue 9, the bounded inbox),
 * when the clean-up finds it carrying more than
 * `DEFAULTS.inboxTombstoneBytesMax` beyond its content (freshInbox).
 */
export class DocumentRenewal {
  private readonly due = new Set<string>();
  private running: Promise<void> | null = null;

  constructor(
    private readonly deps: {
      hocuspocus: Hocuspocus;
      gate: RenewalGate;
      documents: DocumentStore;
      logger: Logger;
      /** Lets go of the server's own direct connection to the document. */
      dropWriter(documentName: string): Promise<void>;
      /** The store is shared with other servers (PostgreSQL): a renewal merges what they stored. */
      sharedStore: boolean;
      /** A test's hooks: run between queueing the renewal and its commit, and right after it (the kill -9 test stops the process there). */
      beforeCommit?: () => void;
      afterCommit?: () => void;
    },
    readonly settings: RenewalSettings = defaultRenewalSettings,
  ) {}

  get threshold(): number {
    return this.settings.window * this.settings.factor;
  }

  /** The document outgrew its bound: renew it soon (after the update that made it so is handled). */
  schedule(documentName: string): void {
    this.due.add(documentName);
    if (!this.running) this.running = this.drain();
  }

  /** Resolves once no renewal is running or due. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    try {
      while (this.due.size > 0) {
        // After the current update's hooks (its acknowledgement included) have run.
        await new Promise((resolve) => setImmediate(resolve));
        const [name] = this.due;
        this.due.delete(name!);
        await this.renew(name!).catch((error: unknown) => this.deps.logger.error({ err: error, documentName: name }, 'renewing a live document failed; it stays as it is'));
      }
    } finally {
      this.running = null;
    }
  }

  /** The next epoch of a conversation (its window) or an inbox (its content without tombstones). */
  private freshOf(documentName: string, document: Y.Doc): FreshWindow {
    return parseDocName(documentName)?.type === 'inbox' ? freshInbox(document) : freshWindow(document, this.settings.window);
  }

  /** The next epoch of a document that outgrew its bound (a conversation's window, an inbox's tombstones), or null. */
  private freshIfOutgrown(documentName: string, document: Document): FreshWindow | null {
    switch (parseDocName(documentName)?.type) {
      case 'conversation':
        return outgrown(document, this.threshold) ? freshWindow(document, this.settings.window) : null;
      case 'inbox': {
        const fresh = freshInbox(document);
        return inboxOutgrown(document, fresh) ? fresh : null;
      }
      default:
        return null;
    }
  }

  /**
   * What the new epoch is built from, taken at the seal. Alone, the store
   * holds nothing memory lacks (it hands the build null): the fresh epoch
   * made from memory now is the one stored. On a shared store the build gets
   * what other servers stored meanwhile, so the sealed state is kept as an
   * update to merge it into (an encode of the whole document: only there).
   */
  private sealedState(documentName: string, document: Document, fresh: FreshWindow): (stored: StoredDocument | null) => FreshWindow {
    if (!this.deps.sharedStore) return () => fresh;
    const sealed = Y.encodeStateAsUpdate(document);
    return (stored) => {
      const parts = stored ? (stored.snapshot ? [stored.snapshot, ...stored.updates] : stored.updates) : [];
      if (parts.length === 0) return fresh;
      const copy = new Y.Doc();
      Y.applyUpdate(copy, sealed);
      // Merging is idempotent for what the copy holds already.
      for (const part of parts) Y.applyUpdate(copy, part);
      const merged = this.freshOf(documentName, copy);
      copy.destroy();
      return merged;
    };
  }

  /**
   * Destroys the sealed old document once its last connection is gone. It
   * left Hocuspocus' map at once (close), so the next connection under its
   * name loads the new epoch. Waiting for an unload instead let
   * replicas reconnect to the sealed copy faster than it could unload (each
   * was refused at its sync step 1 and came straight back: the renewal fuzz
   * spun like that for a minute, every message of it lost meanwhile).
   */
  private async evict(documentName: string, document: Document): Promise<void> {
    const { hocuspocus, logger } = this.deps;
    // A connection that reached the copy before it left the map is closed too (at its sync step 1 at the latest).
    for (let attempt = 0; document.getConnectionsCount() > 0; attempt++) {
      if (attempt === EVICT_ATTEMPTS) {
        logger.error({ documentName }, 'a renewed document kept connections for a minute; destroyed anyway');
        break;
      }
      document.getConnections().forEach((connection) => connection.close({ code: CloseCode.documentRenewed, reason: Protocol.reason }));
      await new Promise((resolve) => setTimeout(resolve, EVICT_RETRY_MS));
    }
    document.destroy();
    // What Hocuspocus' own unload would tell the extensions, unless a successor is loaded or loading
    // under the name (its own load hooks have taken the name over, or are about to).
    if (!hocuspocus.documents.has(documentName) && !hocuspocus.loadingDocuments.has(documentName)) {
      await hocuspocus.hooks('afterUnloadDocument', { instance: hocuspocus, documentName });
    }
  }

  /** Renews one document now, if it is loaded and still outgrown. Returns the new epoch, or null. */
  async renew(documentName: string): Promise<number | null> {
    const { hocuspocus, gate, documents, logger } = this.deps;
    const document = hocuspocus.documents.get(documentName);
    if (!document) return null;
    // Decided, built and sealed in one synchronous stretch: nothing changes the document in between
    // (a server write refused after the seal, PersistenceExtension, stays out).
    const early = this.freshIfOutgrown(documentName, document);
    if (!early || !gate.beginRenewal(documentName, document)) return null;
    const build = this.sealedState(documentName, document, early);
    let fresh: FreshWindow | null = null;
    const committed = documents.renew(
      documentName,
      (stored) => {
        fresh = build(stored);
        return fresh;
      },
      SERVER_WRITER,
    );
    this.deps.beforeCommit?.();
    try {
      await committed;
    } catch (error) {
      // Nothing was stored: the old epoch goes on (a fenced document is being reloaded anyway).
      gate.abandonRenewal(document);
      throw error;
    }
    this.deps.afterCommit?.();
    const made = fresh as FreshWindow | null;
    logger.info({ documentName, epoch: made?.epoch, kept: made?.kept, bytes: made?.update.byteLength }, 'live document renewed');
    await this.close(documentName, document);
    return made?.epoch ?? null;
  }

  /**
   * Another server renewed the document (issue 15): this server's copy is of
   * the old epoch. Sealed, its connections closed with `document-renewed`,
   * and unloaded, as after a renewal here; the next open loads the new one.
   */
  async retire(documentName: string, document: Document): Promise<void> {
    if (this.deps.hocuspocus.documents.get(documentName) !== document) return;
    this.deps.gate.beginRenewal(documentName, document);
    this.deps.logger.info({ documentName }, 'renewed by another server; closing this epoch');
    await this.close(documentName, document);
  }

  /** The old document stays sealed (PersistenceExtension) until it is gone from memory. */
  private async close(documentName: string, document: Document): Promise<void> {
    document.getConnections().forEach((connection) => connection.close({ code: CloseCode.documentRenewed, reason: Protocol.reason }));
    const { documents } = this.deps.hocuspocus;
    if (documents.get(documentName) === document) documents.delete(documentName);
    await this.deps.dropWriter(documentName);
    await this.evict(documentName, document);
  }
}
