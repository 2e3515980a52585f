import { describe, expect, it } from 'vitest';
import { DEFAULTS } from '@parley/schema';
import { createLogger } from '../logger';
import { JobRunner } from '../jobs/JobRunner';
import { SqliteStorage } from '../storage/SqliteStorage';
import { DigestSweep } from './DigestSweep';
import { DeliveryQueues } from './escalationJobs';

describe('DigestSweep: the recurring digest job', () => {
  it('queues one digest job per due user, a bounded batch a run, another run when the batch was full, and each user once while held', async () => {
    const storage = new SqliteStorage(':memory:');
    const jobs = new JobRunner({ jobs: storage.jobs, logger: createLogger('silent') });
    const sweep = new DigestSweep({ jobs, storage }, 60_000);
    const due = DEFAULTS.digestSweepBatch + 1;
    for (let i = 0; i < due; i++) await storage.deliveries.markDigestDue(`u${i}`, 1_000 + i, 1);
    await storage.deliveries.markDigestDue('later', 50_000, 1);
    const queued = async (queue: string) => (await storage.jobs.counts()).filter((c) => c.queue === queue && c.state === 'queued').reduce((sum, c) => sum + c.count, 0);

    expect(await sweep.run(10_000)).toBe(DEFAULTS.digestSweepBatch);
    expect(await queued(DeliveryQueues.digest)).toBe(DEFAULTS.digestSweepBatch);
    expect(await queued(DeliveryQueues.digestSweep)).toBe(1);
    // The follow-up takes the one left; nobody is taken twice while held; the later one waits for its time.
    expect(await sweep.run(10_001)).toBe(1);
    expect(await sweep.run(10_002)).toBe(0);
    expect(await queued(DeliveryQueues.digest)).toBe(due);
    expect(await sweep.run(50_000)).toBe(1);
    // A held user whose digest job never settled it is due again after the hold.
    expect(await sweep.run(10_000 + DEFAULTS.digestSweepHoldMs)).toBe(DEFAULTS.digestSweepBatch);
    await storage.close();
  });
});
