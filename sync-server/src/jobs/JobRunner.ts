import { DEFAULTS } from '@parley/schema';
import type { Logger } from '../logger';
import type { Job, JobStore, NewJob } from '../storage/Storage';
import { PermanentFailure, RetryLater } from './jobOutcomes';
import { retryDelay } from './retryDelay';
import type { Schedule } from './Schedule';

export type ClaimedJob = Job & { attempt: number };
export type JobHandler = (job: ClaimedJob) => Promise<void>;
export type JobOutcome = 'done' | 'retry' | 'dead';

export interface QueueOptions {
  /** Jobs of this queue running at once in this process. */
  concurrency?: number;
  maxAttempts?: number;
  leaseMs?: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
}

interface QueueState {
  name: string;
  handler: JobHandler;
  concurrency: number;
  maxAttempts: number;
  leaseMs: number;
  backoff: { baseMs: number; maxMs: number };
  running: number;
  pumping: boolean;
  again: boolean;
}

export interface JobRunnerDeps {
  jobs: JobStore;
  logger: Logger;
  /** Called once per finished attempt (metrics). */
  onOutcome?: (queue: string, outcome: JobOutcome) => void;
  /** The clock (tests move it). */
  now?: () => number;
  pollMs?: number;
  batchSize?: number;
  /** False for a runner joining others that are alive (tests of a cluster): it ends no lease at start. */
  releaseAtStart?: boolean;
}

/**
 * Runs the durable job queue's handlers in this process: pg-boss's
 * semantics on the JobStore. At least once: a job runs again when its worker
 * died before recording the outcome, so every handler must be idempotent.
 * Each queue claims only as many jobs as it has free slots, so a slow or
 * failing queue holds back no other, and a failing job (back off, then dead)
 * holds back no other job.
 */
export class JobRunner {
  private readonly queues = new Map<string, QueueState>();
  private readonly schedules: Array<{ name: string; schedule: Schedule; job: NewJob }> = [];
  private readonly running = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | null = null;
  private stopped = true;
  private firing = false;
  private readonly now: () => number;
  private readonly pollMs: number;
  private readonly batchSize: number;

  constructor(private readonly deps: JobRunnerDeps) {
    this.now = deps.now ?? Date.now;
    this.pollMs = deps.pollMs ?? DEFAULTS.jobPollMs;
    this.batchSize = deps.batchSize ?? DEFAULTS.jobBatchSize;
  }

  /** Registers the handler of a queue (before start). */
  define(name: string, handler: JobHandler, options: QueueOptions = {}): void {
    if (this.queues.has(name)) throw new Error(`queue ${name} is defined twice`);
    this.queues.set(name, {
      name,
      handler,
      concurrency: options.concurrency ?? DEFAULTS.jobConcurrency,
      maxAttempts: options.maxAttempts ?? DEFAULTS.jobMaxAttempts,
      leaseMs: options.leaseMs ?? DEFAULTS.jobLeaseMs,
      backoff: { baseMs: options.retryBaseMs ?? DEFAULTS.jobRetryBaseMs, maxMs: options.retryMaxMs ?? DEFAULTS.jobRetryMaxMs },
      running: 0,
      pumping: false,
      again: false,
    });
  }

  /**
   * A recurring job: at each slot of `schedule`, `job` is enqueued once
   * (across restarts and servers). Its key defaults to the schedule's name,
   * so a slot whose previous run still waits adds nothing.
   */
  every(name: string, schedule: Schedule, job: NewJob): void {
    this.schedules.push({ name, schedule, job: { key: `schedule:${name}`, ...job } });
  }

  /** Enqueues (durably) and wakes the queues in this process. */
  async enqueue(jobs: NewJob[]): Promise<Array<string | null>> {
    const ids = await this.deps.jobs.enqueue(jobs, this.now());
    for (const job of jobs) this.kick(job.queue);
    return ids;
  }

  /** Releases what this store's earlier processes held (see JobStore.releaseAbandoned), then polls. */
  async start(): Promise<void> {
    const released = this.deps.releaseAtStart === false ? 0 : await this.deps.jobs.releaseAbandoned(this.now());
    if (released > 0) this.deps.logger.info({ released }, 'jobs left running by an earlier process run again');
    await this.shortenSchedules();
    this.stopped = false;
    this.tick();
    this.timer = setInterval(() => this.tick(), this.pollMs);
    this.timer.unref();
  }

  /** Stops claiming and waits for the running handlers. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  /** Resolves once no handler runs (tests). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  /** Fires due schedules and fills every queue's free slots. */
  tick(): void {
    void this.fireSchedules()
      .catch((error: unknown) => this.deps.logger.error({ err: error }, 'firing recurring jobs failed'))
      .finally(() => {
        for (const name of this.queues.keys()) this.kick(name);
      });
  }

  /** Looks for due jobs of a queue now (an enqueue in this process, a finished job). */
  kick(name: string): void {
    const queue = this.queues.get(name);
    if (!queue || this.stopped) return;
    if (queue.pumping) {
      queue.again = true;
      return;
    }
    queue.pumping = true;
    void this.pump(queue)
      .catch((error: unknown) => this.deps.logger.error({ err: error, queue: name }, 'claiming jobs failed; the next poll tries again'))
      .finally(() => {
        queue.pumping = false;
        if (queue.again) {
          queue.again = false;
          this.kick(name);
        }
      });
  }

  /** Once at start, never per tick: a tick's stale clock reading must not move a slot back. */
  private async shortenSchedules(): Promise<void> {
    const now = this.now();
    for (const { name, schedule } of this.schedules) {
      const nextAt = schedule.next(now);
      await this.deps.jobs.shortenSchedule(name, nextAt, schedule.next(nextAt));
    }
  }

  private async fireSchedules(): Promise<void> {
    // One round at a time in this process; across processes the store's claim decides.
    if (this.firing) return;
    this.firing = true;
    try {
      await this.fireDue();
    } finally {
      this.firing = false;
    }
  }

  private async fireDue(): Promise<void> {
    const now = this.now();
    for (const { name, schedule, job } of this.schedules) {
      const id = await this.deps.jobs.fireSchedule(name, now, schedule.next(now), job);
      if (id) this.kick(job.queue);
    }
  }

  private async pump(queue: QueueState): Promise<void> {
    do {
      queue.again = false;
      const free = queue.concurrency - queue.running;
      if (free <= 0 || this.stopped) return;
      const claimed = await this.deps.jobs.claim(queue.name, Math.min(free, this.batchSize), this.now(), queue.leaseMs, queue.maxAttempts);
      for (const job of claimed) this.launch(queue, job);
      if (claimed.length === free) return; // full: a finishing job pumps again
    } while (queue.again);
  }

  private launch(queue: QueueState, job: ClaimedJob): void {
    queue.running++;
    const run = this.run(queue, job).finally(() => {
      queue.running--;
      this.running.delete(run);
      this.kick(queue.name);
    });
    this.running.add(run);
  }

  private async run(queue: QueueState, job: ClaimedJob): Promise<void> {
    const { jobs, logger } = this.deps;
    const claim = { id: job.id, attempt: job.attempt };
    // A running handler keeps its lease; one that crashed with its process stops renewing it.
    const renewal = setInterval(() => {
      jobs.renew(claim, this.now() + queue.leaseMs).then(
        (held) => held || logger.warn({ jobId: job.id, queue: queue.name }, 'a running job lost its lease; it may run twice'),
        (error: unknown) => logger.error({ err: error, jobId: job.id }, 'renewing a job lease failed'),
      );
    }, Math.max(1, Math.floor(queue.leaseMs / 3)));
    renewal.unref();
    let outcome: JobOutcome = 'done';
    try {
      await queue.handler(job);
    } catch (error) {
      clearInterval(renewal);
      outcome = await this.failed(queue, job, error);
    } finally {
      clearInterval(renewal);
    }
    if (outcome === 'done') {
      // Not recorded (the disk): the lease runs out and the job runs again, which its handler allows.
      await jobs.complete(claim, this.now()).catch((error: unknown) => logger.error({ err: error, jobId: job.id }, 'recording a finished job failed'));
    }
    this.deps.onOutcome?.(queue.name, outcome);
  }

  private async failed(queue: QueueState, job: ClaimedJob, error: unknown): Promise<JobOutcome> {
    const message = error instanceof Error ? error.message : String(error);
    const last = error instanceof PermanentFailure || job.attempt >= queue.maxAttempts;
    const now = this.now();
    const delay = error instanceof RetryLater ? Math.max(error.afterMs, 0) : retryDelay(job.attempt, Math.random, queue.backoff);
    this.deps.logger.warn(
      { err: error, jobId: job.id, queue: queue.name, attempt: job.attempt },
      last ? 'a job failed for the last time; it is dead (see /api/admin/jobs)' : 'a job failed; it will be retried',
    );
    try {
      await this.deps.jobs.fail({ id: job.id, attempt: job.attempt }, message, last ? null : now + delay, now);
    } catch (caught) {
      // Not recorded (the disk): the lease runs out and the job runs again.
      this.deps.logger.error({ err: caught, jobId: job.id }, 'recording a failed job failed');
    }
    return last ? 'dead' : 'retry';
  }
}
