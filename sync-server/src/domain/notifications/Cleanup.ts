import * as Y from 'yjs';
import { DEFAULTS, inboxDocName, inboxParts } from '@parley/schema';
import type { Logger } from '../../logger';
import type { Storage } from '../../storage/Storage';
import type { ServerWriter } from '../../sync/ServerWriter';
import type { JobRunner } from '../../jobs/JobRunner';
import { every } from '../../jobs/Schedule';

export interface CleanupResult {
  notificationsRemoved: number;
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
 * (by their last change), prunes applied events older than that (which also
 * ends their duplicate window) and done jobs older than `jobDoneKeepMs`.
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
    private readonly deps: { storage: Storage; writer: ServerWriter; logger: Logger; jobs: JobRunner },
    readonly maxAgeMs: number = DEFAULTS.cleanupMaxAgeMs,
    intervalMs: number = DEFAULTS.cleanupIntervalMs,
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
    for (const { doc, mark } of due) {
      const { removed, dueAt } = await this.deps.writer.write(doc, (inbox) => this.sweep(inbox, cutoff));
      notificationsRemoved += removed;
      await storage.sweeps.record(doc, mark, dueAt, now);
    }
    const eventsPruned = await storage.events.pruneApplied(cutoff);
    const jobsPruned = await storage.jobs.pruneDone(now - DEFAULTS.jobDoneKeepMs);
    // Delivery records (issue 10) as old as the notifications the clean-up removes: their steps ended long ago.
    const deliveriesPruned = await storage.deliveries.prune(cutoff);
    const result = { notificationsRemoved, eventsPruned, jobsPruned, deliveriesPruned, inboxes: due.length, more: due.length === DEFAULTS.cleanupInboxesPerRun };
    this.deps.logger.info(result, 'clean-up done');
    return result;
  }

  /** Deletes the expired notifications; says when the next settled one expires (null: none is settled). */
  private sweep(inbox: Y.Doc, cutoff: number): { removed: number; dueAt: number | null } {
    const notifications = inboxParts(inbox).notifications;
    const expired: string[] = [];
    let dueAt: number | null = null;
    notifications.forEach((map, id) => {
      if (!(map instanceof Y.Map)) return;
      const readAt = map.get('readAt') as number | null;
      const archivedAt = map.get('archivedAt') as number | null;
      const settledAt = Math.max(readAt ?? -1, archivedAt ?? -1);
      if (settledAt < 0) return; // unsettled: reading or archiving it changes the inbox, which makes it due
      const changedAt = Math.max(settledAt, (map.get('updatedAt') as number) ?? 0);
      if (changedAt < cutoff) expired.push(id);
      else dueAt = Math.min(dueAt ?? Infinity, changedAt + this.maxAgeMs + 1);
    });
    for (const id of expired) notifications.delete(id);
    return { removed: expired.length, dueAt };
  }
}
