import * as Y from 'yjs';
import { DEFAULTS } from '@parley/schema';
import type { Logger } from '../logger';
import type { Metrics } from '../metrics';
import type { DocumentStore } from '../storage/Storage';

/**
 * Merges a document's stored parts into one update. The whole document is
 * loaded and re-encoded, which drops deleted content; a log tail alone refers
 * to items it does not hold, so it is merged as updates instead.
 */
export function mergeDocumentParts(parts: Uint8Array[], how: { complete: boolean }): Uint8Array {
  if (!how.complete) return Y.mergeUpdates(parts);
  const doc = new Y.Doc();
  Y.transact(doc, () => {
    for (const part of parts) Y.applyUpdate(doc, part);
  });
  const merged = Y.encodeStateAsUpdate(doc);
  doc.destroy();
  return merged;
}

export interface CompactionSettings {
  maxUpdates: number;
  maxBytes: number;
  maxAgeMs: number;
  intervalMs: number;
  /** Below this fraction of the snapshot's bytes only the log is squashed (see DocumentStore.compact). */
  majorRatio: number;
}

/** Runs in the background and folds update logs that outgrew their bounds into snapshots. */
export class Compactor {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly deps: { documents: DocumentStore; metrics: Metrics; logger: Logger },
    private readonly bounds: CompactionSettings = {
      maxUpdates: DEFAULTS.compactionMaxLogUpdates,
      maxBytes: DEFAULTS.compactionMaxLogBytes,
      maxAgeMs: DEFAULTS.compactionMaxLogAgeMs,
      intervalMs: DEFAULTS.compactionIntervalMs,
      majorRatio: DEFAULTS.compactionMajorRatio,
    },
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.runOnce().catch((error: unknown) => this.deps.logger.error({ err: error }, 'compaction pass failed'));
    }, this.bounds.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** One pass over every document past a bound. Returns how many were compacted. */
  async runOnce(): Promise<number> {
    if (this.running) {
      await this.running;
      return 0;
    }
    let count = 0;
    this.running = (async () => {
      const { documents, metrics, logger } = this.deps;
      const names = await documents.compactionCandidates({
        maxUpdates: this.bounds.maxUpdates,
        maxBytes: this.bounds.maxBytes,
        majorRatio: this.bounds.majorRatio,
        olderThan: Date.now() - this.bounds.maxAgeMs,
      });
      for (const name of names) {
        try {
          const { folded } = await documents.compact(name, mergeDocumentParts, this.bounds.majorRatio);
          if (folded > 0) {
            count++;
            metrics.compactions.inc();
          }
        } catch (error) {
          logger.error({ err: error, documentName: name }, 'compaction failed');
        }
        // Let connections breathe between documents.
        await new Promise((r) => setImmediate(r));
      }
    })();
    try {
      await this.running;
    } finally {
      this.running = null;
    }
    return count;
  }
}
