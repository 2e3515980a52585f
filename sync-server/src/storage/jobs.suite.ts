import { describe, expect, it } from 'vitest';
import { createLogger } from '../logger';
import { JobRunner, type ClaimedJob, type QueueOptions } from '../jobs/JobRunner';
import { every } from '../jobs/Schedule';
import type { Storage } from './Storage';

const logger = createLogger('silent');
const LEASE = 1_000;
const until = async (check: () => boolean | Promise<boolean>, timeoutMs = 5_000) => {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
};
const fast: QueueOptions = { retryBaseMs: 5, retryMaxMs: 20, leaseMs: LEASE };

/**
 * The job queue's behaviour, for every Storage implementation (SQLite now,
 * PostgreSQL with cluster mode). `reopen` opens the same data again, as a
 * restarted server would (absent for a store that cannot outlive its process).
 * `shared`: a store several servers use at once (PostgreSQL), where a
 * restarted server must not end leases that a live one may hold.
 */
export function jobSuite(
  name: string,
  create: () => Promise<Storage>,
  reopen?: (old: Storage) => Promise<Storage>,
  options: { shared?: boolean } = {},
): void {
  describe(`${name}: job queue`, () => {
    it('claims due jobs oldest first, runs delayed jobs at their time, and counts by queue and state', async () => {
      const storage = await create();
      const [a, b, later] = await storage.jobs.enqueue(
        [
          { queue: 'q', data: { n: 1 }, runAt: 100 },
          { queue: 'q', data: { n: 2 }, runAt: 50 },
          { queue: 'q', data: { n: 3 }, runAt: 1_500 },
        ],
        0,
      );
      await storage.jobs.enqueue([{ queue: 'other', data: null }], 0);
      const claimed = await storage.jobs.claim('q', 10, 1_000, LEASE, 3);
      expect(claimed.map((j) => [j.id, j.data, j.state, j.attempt])).toEqual([
        [b, { n: 2 }, 'active', 1],
        [a, { n: 1 }, 'active', 1],
      ]);
      expect(await storage.jobs.claim('q', 10, 1_000, LEASE, 3)).toEqual([]);
      expect(await storage.jobs.complete({ id: a!, attempt: 1 }, 1_001)).toBe(true);
      expect((await storage.jobs.get(a!))?.state).toBe('done');
      expect(await storage.jobs.counts()).toEqual([
        { queue: 'other', state: 'queued', count: 1 },
        { queue: 'q', state: 'active', count: 1 },
        { queue: 'q', state: 'done', count: 1 },
        { queue: 'q', state: 'queued', count: 1 },
      ]);
      expect((await storage.jobs.claim('q', 10, 1_500, LEASE, 3)).map((j) => j.id)).toEqual([later]); // b's lease (until 2,000) still holds
      expect(await storage.jobs.pruneDone(1_002)).toBe(1);
      expect(await storage.jobs.get(a!)).toBeNull();
      expect((await storage.jobs.list({ queue: 'q', state: 'active', limit: 10 })).map((j) => j.id).sort()).toEqual([b, later].sort());
      await storage.close();
    });

    it('adds a job with a key once while one with that key is pending, and again once it runs', async () => {
      const storage = await create();
      const [first, twin, otherQueue] = await storage.jobs.enqueue(
        [
          { queue: 'q', data: 1, key: 'k' },
          { queue: 'q', data: 2, key: 'k' },
          { queue: 'r', data: 3, key: 'k' },
        ],
        0,
      );
      expect(first).not.toBeNull();
      expect(twin).toBeNull();
      expect(otherQueue).not.toBeNull();
      await storage.jobs.claim('q', 1, 0, LEASE, 3);
      // Running: what it read may be stale, so a new one is added.
      const [second] = await storage.jobs.enqueue([{ queue: 'q', data: 4, key: 'k' }], 1);
      expect(second).not.toBeNull();
      // The first fails while the second waits: both stay (handlers are idempotent); the key stays with the waiting one.
      expect(await storage.jobs.fail({ id: first!, attempt: 1 }, 'boom', 5, 2)).toBe(true);
      expect((await storage.jobs.get(first!))?.key).toBeNull();
      expect((await storage.jobs.get(second!))?.key).toBe('k');
      expect((await storage.jobs.enqueue([{ queue: 'q', data: 5, key: 'k' }], 3))[0]).toBeNull();
      await storage.close();
    });

    it('backs off exponentially with jitter, keeps the last error, and makes the job dead after its attempts; a dead job can be retried', async () => {
      const storage = await create();
      let now = 1_000_000;
      const runner = new JobRunner({ jobs: storage.jobs, logger, now: () => now, pollMs: 5 });
      const attempts: number[] = [];
      runner.define('flaky', async (job) => {
        attempts.push(job.attempt);
        throw new Error(`failure ${job.attempt}`);
      }, { maxAttempts: 3, retryBaseMs: 1_000, retryMaxMs: 60_000 });
      await runner.start();
      const [id] = await runner.enqueue([{ queue: 'flaky', data: {} }]);
      await until(async () => (await storage.jobs.get(id!))?.state === 'retry');
      const first = (await storage.jobs.get(id!))!;
      expect(first.runAt - now).toBeGreaterThanOrEqual(500);
      expect(first.runAt - now).toBeLessThanOrEqual(1_000);
      expect(first.lastError).toBe('failure 1');
      now += 1_000;
      await until(async () => (await storage.jobs.get(id!))?.attempts === 2 && (await storage.jobs.get(id!))?.state === 'retry');
      const second = (await storage.jobs.get(id!))!;
      expect(second.runAt - now).toBeGreaterThanOrEqual(1_000);
      expect(second.runAt - now).toBeLessThanOrEqual(2_000);
      now += 2_000;
      await until(async () => (await storage.jobs.get(id!))?.state === 'dead');
      expect(attempts).toEqual([1, 2, 3]);
      expect((await storage.jobs.get(id!))?.lastError).toBe('failure 3');
      expect((await storage.jobs.list({ state: 'dead', limit: 10 })).map((j) => j.id)).toEqual([id]);
      // Nothing runs a dead job again, until it is retried by hand.
      now += 3_600_000;
      await new Promise((r) => setTimeout(r, 30));
      expect(attempts).toHaveLength(3);
      expect(await storage.jobs.retry(id!, now)).toBe(true);
      expect(await storage.jobs.retry(id!, now)).toBe(false);
      await until(() => attempts.length === 4);
      expect(attempts[3]).toBe(1);
      await runner.stop();
      await storage.close();
    });

    it('runs a crashed worker\'s job again once its lease ran out, once; the old worker\'s outcome is ignored', async () => {
      const storage = await create();
      await storage.jobs.enqueue([{ queue: 'q', data: 'x' }], 0);
      const [abandoned] = await storage.jobs.claim('q', 1, 0, LEASE, 2);
      // The worker "crashes": it never completes. Before the lease runs out nobody else gets the job.
      expect(await storage.jobs.claim('q', 1, LEASE - 1, LEASE, 2)).toEqual([]);
      const [again] = await storage.jobs.claim('q', 1, LEASE, LEASE, 2);
      expect(again).toMatchObject({ id: abandoned!.id, attempt: 2, state: 'active' });
      expect(await storage.jobs.complete({ id: abandoned!.id, attempt: 1 }, LEASE + 1)).toBe(false);
      expect(await storage.jobs.renew({ id: abandoned!.id, attempt: 1 }, 99_999)).toBe(false);
      expect(await storage.jobs.renew({ id: again!.id, attempt: 2 }, 3 * LEASE)).toBe(true);
      expect(await storage.jobs.claim('q', 1, 2 * LEASE + 1, LEASE, 2)).toEqual([]);
      // Abandoned on its last attempt too: dead, with the reason, not run a third time.
      expect(await storage.jobs.claim('q', 1, 3 * LEASE, LEASE, 2)).toEqual([]);
      expect(await storage.jobs.get(abandoned!.id)).toMatchObject({ state: 'dead', lastError: expect.stringContaining('lease') });
      await storage.close();
    });

    it('a runner whose process died leaves its job to the next runner, which runs it after the lease', async () => {
      const storage = await create();
      let now = 0;
      const crashed = new JobRunner({ jobs: storage.jobs, logger, now: () => now, pollMs: 5 });
      crashed.define('q', () => new Promise<void>(() => {}), { leaseMs: LEASE }); // hangs forever: the process "died"
      await crashed.start();
      const [id] = await crashed.enqueue([{ queue: 'q', data: {} }]);
      await until(async () => (await storage.jobs.get(id!))?.state === 'active');
      void crashed.stop();
      const ran: ClaimedJob[] = [];
      // Another live process (a cluster): it ends no lease at start, so only the lease running out hands the job over.
      const next = new JobRunner({ jobs: storage.jobs, logger, now: () => now, pollMs: 5, releaseAtStart: false });
      next.define('q', async (job) => void ran.push(job), { leaseMs: LEASE });
      await next.start();
      await new Promise((r) => setTimeout(r, 30));
      expect(ran).toEqual([]);
      now = LEASE;
      await until(() => ran.length === 1);
      await until(async () => (await storage.jobs.get(id!))?.state === 'done');
      expect(ran[0]!.attempt).toBe(2);
      await next.stop();
      await storage.close();
    });

    if (reopen && options.shared) {
      it('a restarted server leaves active jobs to their leases (another server may be running them), then runs them', async () => {
        let storage = await create();
        await storage.jobs.enqueue([{ queue: 'q', data: {} }], 0);
        const [held] = await storage.jobs.claim('q', 1, 0, 60_000, 3);
        storage = await reopen(storage);
        let now = 1_000;
        const runner = new JobRunner({ jobs: storage.jobs, logger, now: () => now, pollMs: 5 });
        const ran: number[] = [];
        runner.define('q', async (job) => void ran.push(job.attempt));
        await runner.start();
        await new Promise((r) => setTimeout(r, 50));
        expect(ran).toEqual([]);
        expect((await storage.jobs.get(held!.id))?.state).toBe('active');
        now = 60_000;
        await until(() => ran.length === 1);
        expect(ran).toEqual([2]);
        await runner.stop();
        await storage.close();
      });
    }

    if (reopen && !options.shared) {
      it('a restarted process runs the jobs its previous run left active at once, not after their lease', async () => {
        let storage = await create();
        await storage.jobs.enqueue([{ queue: 'q', data: {} }], 0);
        const [held] = await storage.jobs.claim('q', 1, 0, 60_000, 3);
        storage = await reopen(storage);
        const runner = new JobRunner({ jobs: storage.jobs, logger, now: () => 1_000, pollMs: 5 });
        const ran: number[] = [];
        runner.define('q', async (job) => void ran.push(job.attempt));
        await runner.start();
        await until(() => ran.length === 1);
        expect(ran).toEqual([2]);
        await until(async () => (await storage.jobs.get(held!.id))?.state === 'done');
        await runner.stop();
        await storage.close();
      });
    }

    it('100 poison jobs do not stop the good ones', async () => {
      const storage = await create();
      const runner = new JobRunner({ jobs: storage.jobs, logger, pollMs: 5 });
      const done: number[] = [];
      runner.define('mixed', async (job) => {
        const data = job.data as { poison: boolean; n: number };
        if (data.poison) throw new Error('poison');
        done.push(data.n);
      }, { ...fast, concurrency: 2, maxAttempts: 3 });
      await runner.enqueue(Array.from({ length: 100 }, (_, n) => ({ queue: 'mixed', data: { poison: true, n } })));
      await runner.enqueue(Array.from({ length: 10 }, (_, n) => ({ queue: 'mixed', data: { poison: false, n } })));
      await runner.start();
      await until(() => done.length === 10, 10_000);
      await until(async () => (await storage.jobs.counts()).some((c) => c.state === 'dead' && c.count === 100), 10_000);
      await runner.stop();
      await storage.close();
    });

    it('runs at most `concurrency` jobs of a queue at once, and a busy queue holds back no other', async () => {
      const storage = await create();
      const runner = new JobRunner({ jobs: storage.jobs, logger, pollMs: 5 });
      const running = { slow: 0, quick: 0 };
      const peak = { slow: 0, quick: 0 };
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      let quickDone = 0;
      const handler = (queue: 'slow' | 'quick') => async () => {
        running[queue]++;
        peak[queue] = Math.max(peak[queue], running[queue]);
        if (queue === 'slow') await gate;
        else await new Promise((r) => setTimeout(r, 2));
        running[queue]--;
        if (queue === 'quick') quickDone++;
      };
      runner.define('slow', handler('slow'), { ...fast, concurrency: 3 });
      runner.define('quick', handler('quick'), { ...fast, concurrency: 1 });
      await runner.start();
      await runner.enqueue(Array.from({ length: 10 }, () => ({ queue: 'slow', data: null })));
      await runner.enqueue(Array.from({ length: 5 }, () => ({ queue: 'quick', data: null })));
      await until(() => quickDone === 5);
      expect(peak).toEqual({ slow: 3, quick: 1 });
      release();
      await until(async () => (await storage.jobs.counts()).every((c) => c.state === 'done'));
      expect(peak.slow).toBe(3);
      await runner.stop();
      await storage.close();
    });

    it('fires a recurring job once per slot, skips a slot while the last run still waits, and keeps its slots across a restart', async () => {
      let storage = await create();
      const job = { queue: 'tidy', data: {}, key: 'schedule:tidy' };
      expect(await storage.jobs.fireSchedule('tidy', 1_000, 2_000, job)).toBeNull(); // first sight: recorded, due at the next slot
      expect(await storage.jobs.fireSchedule('tidy', 1_999, 2_000, job)).toBeNull();
      const fired = await storage.jobs.fireSchedule('tidy', 2_000, 3_000, job);
      expect(fired).not.toBeNull();
      expect(await storage.jobs.fireSchedule('tidy', 2_500, 3_000, job)).toBeNull();
      // The next slot comes while the first run still waits: the key keeps it to one.
      expect(await storage.jobs.fireSchedule('tidy', 3_000, 4_000, job)).toBeNull();
      expect((await storage.jobs.list({ queue: 'tidy', limit: 10 })).length).toBe(1);
      const [claimed] = await storage.jobs.claim('tidy', 1, 3_100, LEASE, 3);
      await storage.jobs.complete({ id: claimed!.id, attempt: 1 }, 3_200);
      if (reopen) storage = await reopen(storage);
      expect(await storage.jobs.fireSchedule('tidy', 3_500, 4_000, job)).toBeNull();
      expect(await storage.jobs.fireSchedule('tidy', 4_000, 5_000, job)).not.toBeNull();
      expect((await storage.jobs.list({ queue: 'tidy', limit: 10 })).length).toBe(2);
      await storage.close();
    });

    it('never moves a slot back: a fire with an older clock reading after a newer one fires nothing', async () => {
      const storage = await create();
      const job = { queue: 'tidy', data: {}, key: 'schedule:tidy' };
      await storage.jobs.fireSchedule('tidy', 10_000, 11_000, job);
      const first = await storage.jobs.fireSchedule('tidy', 11_000, 12_000, job);
      await storage.jobs.complete({ id: (await storage.jobs.claim('tidy', 1, 11_000, LEASE, 3))[0]!.id, attempt: 1 }, 11_001);
      expect(first).not.toBeNull();
      // Two slots missed; then a tick that read the clock before the gap lands late.
      expect(await storage.jobs.fireSchedule('tidy', 13_500, 14_000, job)).not.toBeNull();
      await storage.jobs.complete({ id: (await storage.jobs.claim('tidy', 1, 13_500, LEASE, 3))[0]!.id, attempt: 1 }, 13_501);
      expect(await storage.jobs.fireSchedule('tidy', 11_000, 12_000, job)).toBeNull();
      expect(await storage.jobs.fireSchedule('tidy', 13_500, 14_000, job)).toBeNull();
      expect((await storage.jobs.list({ queue: 'tidy', limit: 10 })).length).toBe(2);
      await storage.close();
    });

    it('takes a shortened rule only when the stored slot lies beyond its next two slots', async () => {
      const storage = await create();
      const job = { queue: 'tidy', data: {} };
      await storage.jobs.fireSchedule('tidy', 0, 86_400_000, job); // a daily rule
      expect(await storage.jobs.shortenSchedule('tidy', 86_400_000, 86_400_000 * 2)).toBe(false); // the same rule: nothing
      expect(await storage.jobs.shortenSchedule('tidy', 1_000, 2_000)).toBe(true); // now every second
      expect(await storage.jobs.fireSchedule('tidy', 1_000, 2_000, job)).not.toBeNull();
      await storage.close();
    });

    it('a runner runs a schedule on its slots', async () => {
      const storage = await create();
      let now = 10_000;
      const runner = new JobRunner({ jobs: storage.jobs, logger, now: () => now, pollMs: 5 });
      const runs: number[] = [];
      runner.define('tick', async () => void runs.push(now), fast);
      runner.every('tick', every(1_000), { queue: 'tick', data: {} });
      await runner.start();
      await new Promise((r) => setTimeout(r, 30));
      expect(runs).toEqual([]);
      now = 11_000;
      await until(() => runs.length === 1);
      // The clock jumps 2.5 s past a 1 s lease: the first run must be recorded done before, or
      // its lease runs out in this fake time and it is (rightly) claimed again, a second run at
      // 13 500 that the PostgreSQL store showed when its completion came after the jump.
      await until(async () => (await storage.jobs.counts()).every((c) => c.state === 'done'));
      now = 13_500; // two slots were missed (the server was down): one run, not a catch-up of each
      await until(() => runs.length === 2);
      await new Promise((r) => setTimeout(r, 30));
      expect(runs).toEqual([11_000, 13_500]);
      await runner.stop();
      await storage.close();
    });

    it('enqueues in the same transaction as the change that causes it: a duplicate event adds no job', async () => {
      const storage = await create();
      const event = { id: 'e1', type: 'review.created', body: '{}', recipients: ['a'], receivedAt: 5 };
      const job = { queue: 'event.apply', data: { eventId: 'e1' } };
      expect(await storage.events.insert(event, { parties: [], links: [] }, [job])).toBe(true);
      expect(await storage.events.insert(event, { parties: [], links: [] }, [job])).toBe(false);
      expect((await storage.jobs.list({ queue: 'event.apply', limit: 10 })).map((j) => j.data)).toEqual([{ eventId: 'e1' }]);
      await storage.documents.append('doc', new Uint8Array([1]), undefined, [{ queue: 'after-append', data: 1 }]);
      expect((await storage.jobs.list({ queue: 'after-append', limit: 10 })).length).toBe(1);
      await storage.close();
    });
  });
}
