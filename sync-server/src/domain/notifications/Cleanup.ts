import { DEFAULTS, inboxDocName } from '@parley/schema';
import { applyMoveOut, planMoveOut } from './inboxMoveOut';
import type { Logger } from '../../logger';
import type { Storage } from '../../storage/Storage';
import type { ServerWriter } from '../../sync/ServerWriter';
import type { JobRunner } from '../../jobs/JobRunner';
import { every } from '../../jobs/Schedule';

export interface CleanupResult {
  notificationsRemoved: number;
  /** Settled notifications moved out of inbox documents into the archive (issue 9). */
  notificationsMoved: number;
  /** Archived notifications past retention, deleted. */
  archivedPruned: number;
  eventsPruned: number;
  jobsPruned: number;
  /** Delivery records pruned (issue 10). */
  deliveriesPruned: number;
  /** Inboxes loaded by this run. */
  inboxes: number;
  /** Whether more inboxes were due than one run loads (a follow-up run is queued). */
  more: boolean;
}

/** The recurring job's queue. */
export const CLEANUP_QUEUE = 'cleanup';
const INBOX_PREFIX = inboxDocName('');

/**
 * Removes notifications that were read or archived more than `maxAgeMs` ago
 * (by their last change), moves settled ones out of inbox documents into the
 * notification archive (older than `settledKeepMs`, or past the newest
 * `inboxSettledMax`), prunes the archive past `maxAgeMs`, prunes applied events older than that (which also
 * ends their duplicate window) and done jobs older than `jobDoneKeepMs`.
 *
 * A swept inbox (it changed since its last sweep) is renewed into a fresh
 * document when their tombstones (and those of overwritten summaries) pass
 * `DEFAULTS.inboxTombstoneBytesMax`, so its size follows what it holds.
 *
 * A recurring job (one run per slot of `intervalMs`, across restarts). It
 * does not load every known user's inbox: only inboxes that changed since
 * their last sweep, or whose oldest settled notification expires by now (the
 * sweep records when), at most `cleanupInboxesPerRun` per run, longest
 * unswept first; when more were due, a follow-up run is queued at once.
 * Idempotent: a second run finds nothing.
 */
export class Cleanup {
  constructor(
    private readonly deps: {
      storage: Storage;
      writer: ServerWriter;
      logger: Logger;
      jobs: JobRunner;
      /** Renews the inbox document if its tombstones passed their bound (DocumentRenewal; the moved notifications leave them). */
      renew?(doc: string): Promise<void>;
    },
    readonly maxAgeMs: number = DEFAULTS.cleanupMaxAgeMs,
    intervalMs: number = DEFAULTS.cleanupIntervalMs,
    /** How long a settled notification stays in its inbox document (issue 9). */
    readonly settledKeepMs: number = DEFAULTS.inboxSettledKeepMs,
  ) {
    deps.jobs.define(CLEANUP_QUEUE, () => this.runJob(), { concurrency: 1 });
    deps.jobs.every(CLEANUP_QUEUE, every(intervalMs), { queue: CLEANUP_QUEUE, data: {} });
  }

  private async runJob(): Promise<void> {
    const result = await this.run();
    if (result.more) await this.deps.jobs.enqueue([{ queue: CLEANUP_QUEUE, data: { more: true }, key: 'cleanup:more' }]);
  }

  async run(now = Date.now()): Promise<CleanupResult> {
    const { storage } = this.deps;
    const cutoff = now - this.maxAgeMs;
    const due = await storage.sweeps.due(INBOX_PREFIX, now, DEFAULTS.cleanupInboxesPerRun);
    let notificationsRemoved = 0;
    let notificationsMoved = 0;
    for (const { doc, mark } of due) {
      const { removed, moved, dueAt } = await this.sweep(doc, now, cutoff);
      notificationsRemoved += removed;
      notificationsMoved += moved;
      await storage.sweeps.record(doc, mark, dueAt, now);
      await this.deps.renew?.(doc);
    }
    const archivedPruned = await storage.notificationArchive.prune(cutoff);
    const eventsPruned = await storage.events.pruneApplied(cutoff);
    const jobsPruned = await storage.jobs.pruneDone(now - DEFAULTS.jobDoneKeepMs);
    // Delivery records (issue 10) as old as the notifications the clean-up removes: their steps ended long ago.
    const deliveriesPruned = await storage.deliveries.prune(cutoff);
    const result = { notificationsRemoved, notificationsMoved, archivedPruned, eventsPruned, jobsPruned, deliveriesPruned, inboxes: due.length, more: due.length === DEFAULTS.cleanupInboxesPerRun };
    this.deps.logger.info(result, 'clean-up done');
    return result;
  }

  /**
   * Deletes the expired settled notifications of one inbox and moves the old
   * ones to the archive: stored there before they leave the document, so a
   * crash in between leaves a copy in both (the API shows the document's),
   * never none. Says when the next settled one is due (null: none is settled).
   */
  private async sweep(doc: string, now: number, cutoff: number): Promise<{ removed: number; moved: number; dueAt: number | null }> {
    const { writer, storage } = this.deps;
    const userId = doc.slice(INBOX_PREFIX.length);
    const keepMs = Math.min(this.settledKeepMs, this.maxAgeMs);
    const rules = { dropBefore: cutoff, moveBefore: now - keepMs, keepMax: DEFAULTS.inboxSettledMax, keepMs };
    const plan = await writer.read(doc, (inbox) => planMoveOut(inbox, rules));
    if (plan.drop.length === 0 && plan.move.length === 0) return { removed: 0, moved: 0, dueAt: plan.dueAt };
    if (plan.move.length > 0) await storage.notificationArchive.put(userId, plan.move);
    const { removed, stayed } = await writer.write(doc, (inbox) => applyMoveOut(inbox, plan));
    if (stayed.length > 0) await storage.notificationArchive.remove(userId, stayed);
    return { removed: removed - (plan.move.length - stayed.length), moved: plan.move.length - stayed.length, dueAt: plan.dueAt };
  }
}
