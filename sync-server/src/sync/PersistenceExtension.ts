import type { Document, Extension, afterLoadDocumentPayload, afterUnloadDocumentPayload, beforeSyncPayload, onLoadDocumentPayload } from '@hocuspocus/server';
import * as Y from 'yjs';
import type { Logger } from '../logger';
import type { Metrics } from '../metrics';
import type { DocumentStore } from '../storage/Storage';
import { isConnectionOrigin } from './context';
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
}

/**
 * Makes "acknowledged" mean "durable". Hocuspocus awaits beforeSync before it
 * applies a client's update and sends the acknowledgement, so appending the
 * update to the log there puts it on disk first. The server's own writes are
 * appended from the document's update event, synchronously with the change.
 * Loading is snapshot + log tail; the Compactor folds the log later.
 *
 * When storage fails (disk full) a client's update is not applied and not
 * acknowledged; a server write was applied in memory (and broadcast) already.
 * Either way the document is unloaded (see `diverged`): its connections close
 * with `storage-unavailable`, clients resend later, it is loaded again from
 * what is stored, and none of its updates from before is stored on top of it.
 */
export class PersistenceExtension implements Extension {
  /** Below validation (which must refuse before anything is stored). */
  priority = 100;

  /** Documents whose stored updates failed to apply once: loaded the careful way from then on. */
  private readonly suspect = new Set<string>();

  /** The loaded document of each name whose memory matches disk. */
  private readonly live = new Map<string, Document>();
  /** Per loaded document, the appends of the server's writes so far (rejected once one failed). */
  private readonly serverAppends = new WeakMap<Document, Promise<void>>();

  constructor(private readonly deps: PersistenceDeps) {}

  /** Resolves once the server's writes to this document so far are stored; rejects if one was not. */
  persisted(document: Document): Promise<void> {
    return this.serverAppends.get(document) ?? Promise.resolve();
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
    document.on('update', (update: Uint8Array, origin: unknown) => {
      if (isConnectionOrigin(origin)) return; // stored in beforeSync, before it was applied
      const stored = this.live.get(documentName) === document ? this.append(documentName, update) : Promise.reject(storageClosing());
      stored.catch((error: unknown) => this.diverge(documentName, document, error));
      const all = Promise.all([this.persisted(document), stored]).then(() => undefined);
      all.catch(() => {}); // reported by diverge; whoever awaits `persisted` gets the rejection too
      this.serverAppends.set(document, all);
    });
  }

  async afterUnloadDocument({ documentName, instance }: afterUnloadDocumentPayload): Promise<void> {
    if (instance.documents.get(documentName) !== this.live.get(documentName)) this.live.delete(documentName);
  }

  async beforeSync({ type, payload, document, documentName }: beforeSyncPayload): Promise<void> {
    if (!carriesUpdate(type)) return;
    if (isEmptyUpdate(payload)) return;
    // A diverged document is on its way out: nothing more is stored on top of it.
    if (this.live.get(documentName) !== document) throw storageClosing();
    await this.append(documentName, payload).catch((error: unknown) => {
      // Not applied, so memory is not ahead; but storage now fences the document until it is loaded again.
      this.diverge(documentName, document, error);
      closeOnStorageFailure(error);
    });
  }

  private diverge(documentName: string, document: Document, error: unknown): void {
    if (this.live.get(documentName) !== document) return;
    this.live.delete(documentName);
    this.deps.logger.error({ err: error, documentName }, 'an update was not stored; reloading the document from storage');
    this.deps.diverged(documentName);
  }

  private async append(documentName: string, update: Uint8Array): Promise<void> {
    const end = this.deps.metrics.storeLatency.startTimer({ op: 'append' });
    await this.deps.documents.append(documentName, update);
    end();
  }
}
