import type { Document, Extension, afterLoadDocumentPayload, afterUnloadDocumentPayload, beforeSyncPayload, onLoadDocumentPayload } from '@hocuspocus/server';
import * as Y from 'yjs';
import type { Logger } from '../logger';
import type { Metrics } from '../metrics';
import { parseDocName } from '@parley/schema';
import type { DocumentStore, IndexChange, NewJob } from '../storage/Storage';
import { indexChangeOf } from '../domain/history/indexChange';
import { carriesUpdate, isEmptyUpdate } from './syncMessages';
import { closeOnStorageFailure, storageClosing } from './StorageClosing';

export interface PersistenceDeps {
  documents: DocumentStore;
  metrics: Metrics;
  logger: Logger;
  /**
   * An append to this document failed; for a server write, memory is ahead of
   * disk. Close its connections and unload it, so it is loaded again from what
   * is stored.
   */
  diverged(documentName: string): void;
  /** Marks a conversation for the chat notifier, durably (a write of the same group commit). */
  mark(conversationId: string): Promise<void>;
  /**
   * Jobs a change of `inbox:<userId>` causes (the delivery steps of the
   * notification versions it made), stored in the same transaction as it.
   */
  inboxJobs?(userId: string, document: Document, transaction: Y.Transaction): NewJob[];
}

/**
 * The write pipeline, in one place. Every change of a document, a client's
 * update or the server's own write, takes the same steps:
 *
 *   1. validate  (ValidationExtension, in beforeSync, before this: nothing
 *                 refused gets further)
 *   2. apply     (here, in beforeSync, for a client's update; a server write
 *                 is applied by its transaction)
 *   3. store     (the document's update event, synchronously: the update as
 *                 Yjs applied it, what it changes in the message index and
 *                 the chat notifier's mark are queued together, so the group
 *                 commit writes them in one transaction)
 *   4. broadcast (Hocuspocus sends the update to the other connections on the
 *                 next turn of the event loop, after the commit's microtask)
 *   5. acknowledge (beforeSync returns only once step 3 is durable; only then
 *                 does Hocuspocus answer the sender. A server write's caller
 *                 awaits `persisted` the same way.)
 *
 * So an acknowledged update is on disk with its index rows and its mark, and
 * a failed commit acknowledges nothing: the document is unloaded (see
 * `diverged`), its connections close with `storage-unavailable`, clients
 * resend later, and it is loaded again from what is stored, with nothing from
 * before stored on top of it (storage fences it).
 *
 * Loading is snapshot + log tail; the Compactor folds the log later.
 */
export class PersistenceExtension implements Extension {
  /** Below validation (which must refuse before anything is stored). */
  priority = 100;

  /** Documents whose stored updates failed to apply once: loaded the careful way from then on. */
  private readonly suspect = new Set<string>();

  /** The loaded document of each name whose memory matches disk. */
  private readonly live = new Map<string, Document>();
  /** Per loaded document, its appends so far (rejected once one failed). */
  private readonly appends = new WeakMap<Document, Promise<void>>();

  constructor(private readonly deps: PersistenceDeps) {}

  /** Resolves once every change of this document so far is stored; rejects if one was not. */
  persisted(document: Document): Promise<void> {
    return this.appends.get(document) ?? Promise.resolve();
  }

  async onLoadDocument({ document, documentName }: onLoadDocumentPayload): Promise<void> {
    const end = this.deps.metrics.storeLatency.startTimer({ op: 'load' });
    const stored = await this.deps.documents.load(documentName);
    const parts = stored.snapshot ? [stored.snapshot, ...stored.updates] : stored.updates;
    if (this.suspect.has(documentName)) {
      Y.applyUpdate(document, this.salvage(documentName, parts));
    } else {
      try {
        Y.transact(document, () => {
          for (const part of parts) Y.applyUpdate(document, part);
        });
      } catch (error) {
        // Validation should make this impossible; if a stored update still fails, the next
        // load of this document salvages what applies instead of failing for everyone forever.
        this.suspect.add(documentName);
        this.deps.logger.error({ err: error, documentName }, 'a stored update failed to apply; the next load will skip it');
        throw error;
      }
    }
    end();
  }

  /** Applies the parts one by one on a scratch document, skipping any that throw. */
  private salvage(documentName: string, parts: Uint8Array[]): Uint8Array {
    let good = new Y.Doc();
    parts.forEach((part, index) => {
      const trial = new Y.Doc();
      Y.applyUpdate(trial, Y.encodeStateAsUpdate(good));
      try {
        Y.applyUpdate(trial, part);
        good = trial;
      } catch (error) {
        this.deps.logger.error({ err: error, documentName, index }, 'skipped a stored update that does not apply');
      }
    });
    return Y.encodeStateAsUpdate(good);
  }

  async afterLoadDocument({ document, documentName }: afterLoadDocumentPayload): Promise<void> {
    this.live.set(documentName, document);
    const name = parseDocName(documentName);
    const conversationId = name?.type === 'conversation' ? name.id : null;
    const inboxOf = name?.type === 'inbox' ? name.userId : null;
    document.on('update', (update: Uint8Array, _origin: unknown, _doc: Y.Doc, transaction: Y.Transaction) => {
      const jobs = inboxOf && this.deps.inboxJobs ? this.deps.inboxJobs(inboxOf, document, transaction) : undefined;
      this.store(document, documentName, conversationId, update, jobs);
    });
  }

  /** Step 3, for every change of the document, client or server, as Yjs applied it. */
  private store(document: Document, documentName: string, conversationId: string | null, update: Uint8Array, jobs?: NewJob[]): void {
    let stored: Promise<unknown>;
    if (this.live.get(documentName) !== document) stored = Promise.reject(storageClosing());
    else {
      const index: IndexChange | undefined = conversationId ? indexChangeOf(document, conversationId, update) : undefined;
      // Queued in the same stretch of code, so one group commit: no update durable without its mark or its index rows.
      const marked = conversationId ? this.deps.mark(conversationId) : Promise.resolve();
      stored = Promise.all([marked, this.append(documentName, update, index, jobs)]);
    }
    stored.catch((error: unknown) => this.diverge(documentName, document, error));
    const all = Promise.all([this.persisted(document), stored]).then(() => undefined);
    all.catch(() => {}); // reported by diverge; whoever awaits `persisted` gets the rejection too
    this.appends.set(document, all);
  }

  async afterUnloadDocument({ documentName, instance }: afterUnloadDocumentPayload): Promise<void> {
    if (instance.documents.get(documentName) !== this.live.get(documentName)) this.live.delete(documentName);
  }

  /** Steps 2 and 5 for a client's update that validation let through. */
  async beforeSync({ type, payload, document, documentName, connection }: beforeSyncPayload): Promise<void> {
    if (!carriesUpdate(type)) return;
    if (isEmptyUpdate(payload)) return;
    // A diverged document is on its way out: nothing more is stored on top of it.
    if (this.live.get(documentName) !== document) throw storageClosing();
    // Applied here, with the origin Hocuspocus would give it, so it is stored before the
    // acknowledgement; Hocuspocus applies it again right after, which changes nothing.
    Y.applyUpdate(document, payload, { source: 'connection', connection });
    await this.persisted(document).catch(closeOnStorageFailure);
  }

  private diverge(documentName: string, document: Document, error: unknown): void {
    if (this.live.get(documentName) !== document) return;
    this.live.delete(documentName);
    this.deps.logger.error({ err: error, documentName }, 'an update was not stored; reloading the document from storage');
    this.deps.diverged(documentName);
  }

  private async append(documentName: string, update: Uint8Array, index?: IndexChange, jobs?: NewJob[]): Promise<void> {
    const end = this.deps.metrics.storeLatency.startTimer({ op: 'append' });
    await this.deps.documents.append(documentName, update, index, jobs);
    end();
  }
}
