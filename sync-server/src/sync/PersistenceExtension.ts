import type { Extension, afterLoadDocumentPayload, beforeSyncPayload, onLoadDocumentPayload } from '@hocuspocus/server';
import * as Y from 'yjs';
import type { Logger } from '../logger';
import type { Metrics } from '../metrics';
import type { DocumentStore } from '../storage/Storage';
import { isConnectionOrigin } from './context';
import { carriesUpdate, isEmptyUpdate } from './syncMessages';



/**
 * Makes "acknowledged" mean "durable". Hocuspocus awaits beforeSync before it
 * applies a client's update and sends the acknowledgement, so appending the
 * update to the log there puts it on disk first. The server's own writes are
 * appended from the document's update event, synchronously with the change.
 * Loading is snapshot + log tail; the Compactor folds the log later.
 */
export class PersistenceExtension implements Extension {
  /** Below validation (which must refuse before anything is stored). */
  priority = 100;

  /** Documents whose stored updates failed to apply once: loaded the careful way from then on. */
  private readonly suspect = new Set<string>();

  constructor(private readonly deps: { documents: DocumentStore; metrics: Metrics; logger: Logger }) {}

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
    document.on('update', (update: Uint8Array, origin: unknown) => {
      if (isConnectionOrigin(origin)) return; // stored in beforeSync, before it was applied
      this.append(documentName, update).catch((error: unknown) =>
        this.deps.logger.error({ err: error, documentName }, 'failed to store a server write'),
      );
    });
  }

  async beforeSync({ type, payload, documentName }: beforeSyncPayload): Promise<void> {
    if (!carriesUpdate(type)) return;
    if (isEmptyUpdate(payload)) return;
    await this.append(documentName, payload);
  }

  private async append(documentName: string, update: Uint8Array): Promise<void> {
    const end = this.deps.metrics.storeLatency.startTimer({ op: 'append' });
    await this.deps.documents.append(documentName, update);
    end();
  }
}
