import { DEFAULTS } from '@parley/schema';
import type { DeliveryStore, NewJob } from '../storage/Storage';
import type { JobRunner } from '../jobs/JobRunner';
import { every } from '../jobs/Schedule';
import { DeliveryQueues } from './escalationJobs';

/**
 * The recurring digest job (issue 10, item 8): each slot of DIGEST_SWEEP_MS
 * takes the users whose digest is due from `email_digest_due` (one UPDATE
 * on its due-time index, a bounded batch: never a scan over users nor an
 * inbox loaded) and queues one `email.digest` job per user, which does the
 * work (EmailDigest.digest). Rows are written by each email step (a
 * notification that may join a digest) and settled by the digest job (done,
 * or due again later). A full batch queues another sweep at once.
 */
export class DigestSweep {
  constructor(
    private readonly deps: { jobs: JobRunner; storage: { deliveries: DeliveryStore } },
    intervalMs: number,
  ) {
    deps.jobs.define(DeliveryQueues.digestSweep, async () => void (await this.run()), { concurrency: 1 });
    deps.jobs.every(DeliveryQueues.digestSweep, every(intervalMs), { queue: DeliveryQueues.digestSweep, data: {} });
  }

  async run(now = Date.now()): Promise<number> {
    const users = await this.deps.storage.deliveries.takeDueDigests(now, now + DEFAULTS.digestSweepHoldMs, DEFAULTS.digestSweepBatch);
    const jobs: NewJob[] = users.map((userId) => ({ queue: DeliveryQueues.digest, data: { userId }, key: `digest:${userId}` }));
    if (users.length === DEFAULTS.digestSweepBatch) jobs.push({ queue: DeliveryQueues.digestSweep, data: { more: true }, key: 'digest-sweep:more' });
    if (jobs.length > 0) await this.deps.jobs.enqueue(jobs);
    return users.length;
  }
}
