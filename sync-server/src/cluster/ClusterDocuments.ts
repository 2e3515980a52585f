import type { Document, Extension, afterLoadDocumentPayload, afterUnloadDocumentPayload, beforeSyncPayload, onLoadDocumentPayload } from '@hocuspocus/server';
import * as Y from 'yjs';
import type { Logger } from '../logger';
import type { DocumentEvent, SharedDocuments, StoredDocument } from '../storage/Storage';
import { REMOTE_ORIGIN } from './remoteOrigin';
import { isSyncStep1 } from '../sync/syncMessages';
import { closeOnStorageFailure } from '../sync/StorageClosing';
import { ReadsAfter } from './ReadsAfter';

export interface ClusterDeps {
  shared: SharedDocuments;
  logger: Logger;
  /**
   * The document was replaced (renewed) by another server: close its
   * connections with `document-renewed` and unload it, as a renewal here does.
   */
  retire(documentName: string, document: Document): void;
  /** A test's lag: announcements are handled this much later (a server whose feed is behind). */
  delayMs?: number;
}

/** How long after a failed read of the store a document is caught up again. */
const RETRY_MS = 1_000;
/** Announcements kept for one document while it loads. */
const LOADING_BUFFER_MAX = 1_000;

type Announcement = Exclude<DocumentEvent, { type: 'resync' }>;

/**
 * Any client on any server (issue 15): every server holds the documents its
 * own clients opened, and follows what the others store into them.
 *
 * PostgreSQL is the one ordered, durable channel: each append's transaction
 * announces it (pgDocFeed), delivered after COMMIT in commit order. For a
 * document held here, another server's update is applied with REMOTE_ORIGIN
 * (Hocuspocus broadcasts it to the connections here; the write pipeline does
 * not store it again). Every server broadcasts only after the commit, so
 * PostgreSQL holds everything any client has seen: when this server lacks
 * something (a lost connection, a client ahead of it), it reads the document
 * back and merges it (Yjs merges are idempotent). Nobody owns a document, so
 * a server's death hands nothing over: its clients reconnect to another,
 * which loads what is stored.
 */
export class ClusterDocuments implements Extension {
  /** First: a load registers before the store is read, so no announcement after that read is missed. */
  priority = 1_000;

  /** Documents being loaded, with the announcements heard meanwhile (applied once their generation is known). */
  private readonly loading = new Map<string, Announcement[]>();
  /** Documents loading while the feed was lost: caught up once loaded. */
  private readonly stale = new Set<string>();
  private readonly held = new Map<string, Document>();
  private stopFeed: (() => Promise<void>) | null = null;
  /** Catch-ups of one document share a read of the store that began after each asked (a reconnect storm: one read, not one per client). */
  private readonly catchUps = new ReadsAfter((document: Document) => this.readAndMerge(document.name, document));

  constructor(private readonly deps: ClusterDeps) {}

  async start(): Promise<void> {
    const delay = this.deps.delayMs ?? 0;
    this.stopFeed = await this.deps.shared.listen((event) => (delay > 0 ? void setTimeout(() => this.heard(event), delay) : this.heard(event)));
  }

  async stop(): Promise<void> {
    await this.stopFeed?.();
    this.stopFeed = null;
  }

  async onLoadDocument({ documentName }: onLoadDocumentPayload): Promise<void> {
    if (!this.loading.has(documentName)) this.loading.set(documentName, []);
  }

  async afterLoadDocument({ document, documentName }: afterLoadDocumentPayload): Promise<void> {
    const heard = this.loading.get(documentName) ?? [];
    this.loading.delete(documentName);
    this.held.set(documentName, document);
    for (const event of heard) this.follow(event);
    if (this.stale.delete(documentName)) this.catchUp(document).catch((error: unknown) => this.failedToFollow(documentName, document, error));
  }

  /**
   * A client's sync request (a new connection, or one back after a drop) is
   * answered from a copy that has caught up with the store first: the feed
   * may be seconds behind under load, and a client that moved here after its
   * server died must find everything that server acknowledged to it
   * (contract section 8), not what this copy happened to have heard of yet.
   */
  async beforeSync({ type, document, documentName }: beforeSyncPayload): Promise<void> {
    if (!isSyncStep1(type) || this.held.get(documentName) !== document) return;
    await this.catchUp(document).catch(closeOnStorageFailure);
  }

  async afterUnloadDocument({ documentName, instance }: afterUnloadDocumentPayload): Promise<void> {
    const held = this.held.get(documentName);
    if (held && instance.documents.get(documentName) !== held) this.held.delete(documentName);
    if (!this.held.has(documentName) && !this.loading.has(documentName)) this.deps.shared.forget(documentName);
  }

  /**
   * Merges the stored document into the one held here: afterwards it has
   * everything committed before the read began. Resolves false when the
   * stored document is a newer generation (it was renewed elsewhere: the one
   * held here is retired instead).
   */
  catchUp(document: Document): Promise<boolean> {
    return this.catchUps.after(document);
  }

  /** One catch-up: its read begins when it is called. */
  private async readAndMerge(documentName: string, document: Document): Promise<boolean> {
    const stored = await this.deps.shared.read(documentName);
    if (this.held.get(documentName) !== document) return false;
    if (stored.generation !== this.deps.shared.generationOf(documentName)) {
      if (stored.generation > this.deps.shared.generationOf(documentName)) this.deps.retire(documentName, document);
      return false;
    }
    this.apply(documentName, document, mergedParts(stored));
    return true;
  }

  private heard(event: DocumentEvent): void {
    if (event.type === 'resync') return this.resync();
    // This server's own write: applied here before it was stored.
    if (event.node === this.deps.shared.node) return;
    const buffered = this.loading.get(event.doc);
    if (!buffered) return this.follow(event);
    // A load that failed leaves its entry until the next load: past a bound, read the store once loaded instead.
    if (buffered.length < LOADING_BUFFER_MAX) buffered.push(event);
    else this.stale.add(event.doc);
  }

  private follow(event: Announcement): void {
    const document = this.held.get(event.doc);
    if (!document || event.node === this.deps.shared.node) return;
    const mine = this.deps.shared.generationOf(event.doc);
    // Stored before the generation this server loaded: already in what it loaded.
    if (event.generation < mine) return;
    // Renewed after this server loaded it: what it holds is the old epoch.
    if (event.generation > mine) return this.deps.retire(event.doc, document);
    // The renewal this server loaded the result of.
    if (event.type === 'replaced') return;
    if (event.update) return this.apply(event.doc, document, event.update);
    void this.deps.shared.fetchUpdate(event.doc, event.seq).then(
      (update) => {
        if (this.held.get(event.doc) !== document) return;
        // Folded away by a compaction meanwhile: the whole document then.
        if (update) this.apply(event.doc, document, update);
        else return this.catchUp(document).then(() => undefined);
      },
    ).catch((error: unknown) => this.failedToFollow(event.doc, document, error));
  }

  private apply(documentName: string, document: Document, update: Uint8Array): void {
    try {
      Y.applyUpdate(document, update, REMOTE_ORIGIN);
    } catch (error) {
      // Validated by the server that stored it; if it still does not apply, reading the whole document may.
      this.deps.logger.error({ err: error, documentName }, 'an update stored by another server did not apply');
    }
  }

  /** The feed was lost and is back: what was announced meanwhile is read from the store. */
  private resync(): void {
    this.deps.logger.warn({ documents: this.held.size }, 'document feed reconnected; catching up every open document');
    for (const name of this.loading.keys()) this.stale.add(name);
    for (const [name, document] of this.held) this.catchUp(document).catch((error: unknown) => this.failedToFollow(name, document, error));
  }

  private failedToFollow(documentName: string, document: Document, error: unknown): void {
    // PostgreSQL unreachable for a moment: read the whole document again a little later.
    this.deps.logger.error({ err: error, documentName }, 'could not read what another server stored; retrying');
    setTimeout(() => {
      if (this.held.get(documentName) !== document) return;
      this.catchUp(document).catch((again: unknown) => this.failedToFollow(documentName, document, again));
    }, RETRY_MS).unref();
  }
}

/** Snapshot and log as one update (Yjs applies a merge of them as it would apply each). */
function mergedParts(stored: StoredDocument): Uint8Array {
  const parts = stored.snapshot ? [stored.snapshot, ...stored.updates] : stored.updates;
  return parts.length === 1 ? parts[0]! : Y.mergeUpdates(parts);
}
