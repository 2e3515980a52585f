import type { Document, Extension, afterLoadDocumentPayload, afterUnloadDocumentPayload, beforeSyncPayload, beforeUnloadDocumentPayload, onLoadDocumentPayload } from '@hocuspocus/server';
import * as Y from 'yjs';
import type { Logger } from '../logger';
import type { Metrics } from '../metrics';
import { conversationParts, parseDocName } from '@parley/schema';
import type { DocumentStore, IndexChange, NewJob } from '../storage/Storage';
import { eraseJob } from '../domain/erasure/Erasure';
import { setsDeletedAt } from '../domain/erasure/softDeletes';
import { indexChangeOf } from '../domain/history/indexChange';
import { carriesUpdate, isEmptyUpdate, isSyncStep1, spendApplied } from './syncMessages';
import { closeOnStorageFailure, storageClosing } from './StorageClosing';
import { renewedClosing } from './renewal/RenewedClosing';
import { isRemote } from '../cluster/remoteOrigin';
import { DocumentReplacedError } from '../storage/StorageWriteError';
import { outgrown as isOutgrown } from './renewal/outgrown';

export interface PersistenceDeps {
  documents: DocumentStore;
  metrics: Metrics;
  logger: Logger;
  /**
   * An append to this document failed; for a server write, memory is ahead of
   * disk. Close its connections and unload it, so it is loaded again from what
   * is stored. `replaced` when another server renewed it meanwhile (its
   * connections then open the new epoch: `document-renewed`).
   */
  diverged(documentName: string, replaced: boolean): void;
  /** Marks a conversation for the chat notifier, durably (a write of the same group commit). */
  mark(conversationId: string): Promise<void>;
  /**
   * Jobs an update that sets messages' `mentions` brings (issue 14: the
   * mention notifier's), stored in the same transaction as the update, and
   * a call once they are stored (to wake their queue).
   */
  mentionJobs?(conversationId: string, messageIds: string[]): NewJob[];
  jobsStored?(jobs: NewJob[]): void;
  /**
   * Jobs a change of `inbox:<userId>` causes (the delivery steps of the
   * notification versions it made, issue 10), stored in the same transaction as it.
   */
  inboxJobs?(userId: string, document: Document, transaction: Y.Transaction): NewJob[];
  /**
   * A conversation's live document holds more messages than this: it is due
   * for renewal (issue 9, item 2; see renewal/DocumentRenewal).
   */
  renewalThreshold?: number;
  outgrown?(documentName: string): void;
}

/**
 * The write pipeline, in one place. Every change of a document, a client's
 * update or the server's own write, takes the same steps:
 *
 *   1. validate  (ValidationExtension, in beforeSync, before this: nothing
 *                 refused gets further)
 *   2. apply     (here, in beforeSync, for a client's update, once: the
 *                 frame's copy is spent so Hocuspocus' own apply is empty; a
 *                 server write is applied by its transaction)
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
  /**
   * Documents being renewed: from the moment the fresh window is taken
   * nothing more is applied to (client updates are closed with
   * `document-renewed`) or stored on top of the old epoch.
   */
  private readonly renewing = new WeakSet<Document>();

  constructor(private readonly deps: PersistenceDeps) {}

  /** Resolves once every change of this document so far is stored; rejects if one was not. */
  persisted(document: Document): Promise<void> {
    return this.appends.get(document) ?? Promise.resolve();
  }

  async onLoadDocument({ document, documentName }: onLoadDocumentPayload): Promise<void> {
    const end = this.deps.metrics.storeLatency.startTimer({ op: 'load' });
    // A store that does not answer refuses the opening with `storage-unavailable` (clients retry).
    const stored = await this.deps.documents.load(documentName).catch(closeOnStorageFailure);
    const parts = stored.snapshot ? [stored.snapshot, ...stored.updates] : stored.updates;
    if (this.suspect.has(documentName)) {
      withoutUpdateEvent(document, () => Y.applyUpdate(document, this.salvage(documentName, parts)));
    } else {
      try {
        withoutUpdateEvent(document, () =>
          Y.transact(document, () => {
            for (const part of parts) Y.applyUpdate(document, part);
          }),
        );
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
    document.on('update', (update: Uint8Array, origin: unknown, _doc: Y.Doc, transaction: Y.Transaction) => {
      // Stored by the server that made it (issue 15: cluster/ClusterDocuments applies it here).
      if (isRemote(origin)) return;
      // Delivery steps of the notifications this inbox change creates or bumps (issue 10), stored with it.
      const jobs = inboxOf && this.deps.inboxJobs ? this.deps.inboxJobs(inboxOf, document, transaction) : undefined;
      this.store(document, documentName, conversationId, update, transaction, jobs);
    });
    // A document stored before the window existed (or with a smaller factor) is renewed as soon as it opens.
    if (conversationId) this.checkSize(document, documentName);
  }

  // --- Bounded live document (issue 9, item 2) ---
  /**
   * Takes the document out of the old epoch: false when it is not the live,
   * stored copy (a failed write is reloading it) or already being renewed.
   */
  beginRenewal(documentName: string, document: Document): boolean {
    if (this.live.get(documentName) !== document || this.renewing.has(document)) return false;
    this.renewing.add(document);
    return true;
  }

  /**
   * The renewal was given up before it was stored: the document goes on in
   * its epoch. (A renewed document stays sealed until it is unloaded.)
   */
  abandonRenewal(document: Document): void {
    this.renewing.delete(document);
  }

  private checkSize(document: Document, documentName: string): void {
    const { renewalThreshold, outgrown } = this.deps;
    if (renewalThreshold === undefined || !outgrown || this.renewing.has(document)) return;
    if (isOutgrown(document, renewalThreshold)) outgrown(documentName);
  }

  /** Step 3, for every change of the document, client or server, as Yjs applied it. */
  private store(document: Document, documentName: string, conversationId: string | null, update: Uint8Array, transaction: Y.Transaction, inboxJobs: NewJob[] = []): void {
    let stored: Promise<unknown>;
    if (this.renewing.has(document)) {
      // A server write into a document being renewed: refused, never stored on top of the old epoch.
      const refused = Promise.reject(renewedClosing());
      refused.catch(() => {});
      this.appends.set(document, Promise.all([this.persisted(document), refused]).then(() => undefined));
      this.appends.get(document)!.catch(() => {});
      return;
    }
    if (this.live.get(documentName) !== document) stored = Promise.reject(storageClosing());
    else {
      const mentioned = new Set<string>();
      const index: IndexChange | undefined = conversationId ? indexChangeOf(document, conversationId, transaction, mentioned) : undefined;
      const jobs = conversationId && mentioned.size > 0 && this.deps.mentionJobs ? this.deps.mentionJobs(conversationId, [...mentioned]) : [...inboxJobs];
      // Queued in the same stretch of code, so one group commit: no update durable without its mark, its index rows or its jobs.
      const marked = conversationId ? this.deps.mark(conversationId) : Promise.resolve();
      // A soft deletion queues its erasure in the same transaction (issue 14, item 5).
      if (conversationId && setsDeletedAt(update)) jobs.push(eraseJob(conversationId));
      const appended = this.append(documentName, update, index, jobs);
      if (jobs.length > 0) appended.then(() => this.deps.jobsStored?.(jobs), () => {});
      stored = Promise.all([marked, appended]);
    }
    stored.catch((error: unknown) => this.diverge(documentName, document, error));
    const all = Promise.all([this.persisted(document), stored]).then(() => undefined);
    all.catch(() => {}); // reported by diverge; whoever awaits `persisted` gets the rejection too
    this.appends.set(document, all);
    if (conversationId) this.checkSize(document, documentName);
  }

  /**
   * Hocuspocus 4.7 unloads by name: an unload of a document that was already
   * replaced under its name (renewed, reloaded; its last connection's close
   * schedules one) would evict the successor from its map while the
   * successor's connections carry on, and the next client would get a second
   * copy of the document. Refusing here makes Hocuspocus skip that unload.
   */
  async beforeUnloadDocument({ instance, documentName, document }: beforeUnloadDocumentPayload): Promise<void> {
    if (instance.documents.get(documentName) !== document) throw new Error(`${documentName}: not unloading a document already replaced`);
  }

  async afterUnloadDocument({ documentName, instance }: afterUnloadDocumentPayload): Promise<void> {
    if (instance.documents.get(documentName) !== this.live.get(documentName)) this.live.delete(documentName);
  }

  /** Steps 2 and 5 for a client's update that validation let through. */
  async beforeSync({ type, payload, document, documentName, connection }: beforeSyncPayload): Promise<void> {
    // A connection that reaches the sealed old epoch (it opened while the renewal ran, before
    // DocumentRenewal took the copy out of Hocuspocus) is closed before it gets that epoch's
    // state: a replica synced from it would take old-epoch items for the server's, and be
    // refused at its first change.
    if (isSyncStep1(type) && this.renewing.has(document)) throw renewedClosing();
    if (!carriesUpdate(type)) return;
    if (isEmptyUpdate(payload)) return;
    // Being renewed: the sender opens the new epoch and makes its change again there.
    if (this.renewing.has(document)) throw renewedClosing();
    // A diverged document is on its way out: nothing more is stored on top of it.
    if (this.live.get(documentName) !== document) throw storageClosing();
    // Applied here, with the origin Hocuspocus would give it, so it is stored before the
    // acknowledgement. Hocuspocus then applies the frame's bytes itself: they are made an
    // empty update, so that second apply is an empty transaction, not a decode of it all.
    Y.applyUpdate(document, payload, { source: 'connection', connection });
    spendApplied(payload);
    await this.persisted(document).catch(closeOnStorageFailure);
  }

  private diverge(documentName: string, document: Document, error: unknown): void {
    if (this.live.get(documentName) !== document) return;
    this.live.delete(documentName);
    const replaced = error instanceof DocumentReplacedError;
    if (replaced) this.deps.logger.info({ documentName }, 'renewed by another server; closing this epoch');
    else this.deps.logger.error({ err: error, documentName }, 'an update was not stored; reloading the document from storage');
    this.deps.diverged(documentName, replaced);
  }

  private async append(documentName: string, update: Uint8Array, index?: IndexChange, jobs?: NewJob[]): Promise<void> {
    const end = this.deps.metrics.storeLatency.startTimer({ op: 'append' });
    await this.deps.documents.append(documentName, update, index, jobs?.length ? jobs : undefined);
    end();
  }
}

/**
 * Applies what was loaded with the document's `update` listeners set aside.
 * Hocuspocus' own listener is the only one attached while a document loads
 * (ours come in afterLoadDocument); for it, Yjs would encode the whole loaded
 * state once more as an update (about a fifth of a cold open's CPU, see
 * docs/PERFORMANCE.md section 6) and Hocuspocus would queue it for a
 * broadcast to connections that sync the state anyway.
 */
function withoutUpdateEvent(document: Y.Doc, apply: () => void): void {
  const observers = document._observers as Map<string, unknown>;
  const listeners = observers.get('update');
  observers.delete('update');
  try {
    apply();
  } finally {
    if (listeners !== undefined) observers.set('update', listeners);
  }
}
