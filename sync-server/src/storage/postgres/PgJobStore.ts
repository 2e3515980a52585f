import type pg from 'pg';
import { DEFAULTS } from '@parley/schema';
import type { Claim, Job, JobState, JobStore, NewJob } from '../Storage';
import type { PgGroupCommit } from './PgGroupCommit';
import { changed, transaction, type Queryable } from './PgPool';
import { row } from './pgLiteral';

interface JobRow {
  id: number;
  queue: string;
  data: string;
  state: JobState;
  attempts: number;
  run_at: number;
  lease_until: number | null;
  dedupe_key: string | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
}

const COLUMNS = 'id, queue, data, state, attempts, run_at, lease_until, dedupe_key, last_error, created_at, updated_at';
const ID = /^\d{1,18}$/;

const toJob = (row: JobRow): Job => ({
  id: String(row.id),
  queue: row.queue,
  data: JSON.parse(row.data) as unknown,
  state: row.state,
  attempts: row.attempts,
  runAt: row.run_at,
  leaseUntil: row.lease_until,
  key: row.dedupe_key,
  lastError: row.last_error,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

/** As in SqliteJobStore: a key stays on a job going back to waiting only if no other waiting job of its queue holds it. */
const KEEP_KEY_UNLESS_TAKEN = `dedupe_key = CASE WHEN EXISTS (
  SELECT 1 FROM jobs twin WHERE twin.queue = jobs.queue AND twin.dedupe_key = jobs.dedupe_key
    AND twin.state IN ('queued', 'retry') AND twin.id <> jobs.id) THEN NULL ELSE dedupe_key END`;

/**
 * The job queue on PostgreSQL, for many servers at once: a claim locks the
 * rows it takes with `FOR UPDATE SKIP LOCKED`, so concurrent claimers on
 * other servers take other jobs instead of waiting or taking the same one;
 * every later change is conditional on the claim (id and attempt), so a
 * worker whose lease ran out changes nothing.
 */
export class PgJobStore implements JobStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly commits: PgGroupCommit,
  ) {}

  enqueue(jobs: NewJob[], now = Date.now()): Promise<Array<string | null>> {
    return this.commits.run((client) => this.enqueueWith(client, jobs, now));
  }

  /** Inside a transaction already open (an event's insert, a group commit). */
  async enqueueWith(client: Queryable, jobs: NewJob[], now = Date.now()): Promise<Array<string | null>> {
    const ids: Array<string | null> = [];
    for (const job of jobs) {
      const result = await client.query<{ id: number }>(
        `INSERT INTO jobs (queue, data, state, attempts, run_at, dedupe_key, created_at, updated_at)
         VALUES ($1, $2, 'queued', 0, $3, $4, $5, $5) ON CONFLICT DO NOTHING RETURNING id`,
        [job.queue, JSON.stringify(job.data ?? null), job.runAt ?? now, job.key ?? null, now],
      );
      ids.push(result.rows[0] ? String(result.rows[0].id) : null);
    }
    return ids;
  }

  /** The same as statements for an append's group commit (see PgGroupCommit); their ids are not needed there. */
  enqueueStatements(jobs: NewJob[], now: number): string[] {
    return jobs.map(
      (job) =>
        `INSERT INTO jobs (queue, data, state, attempts, run_at, dedupe_key, created_at, updated_at)
         VALUES ${row(job.queue, JSON.stringify(job.data ?? null), 'queued', 0, job.runAt ?? now, job.key ?? null, now, now)} ON CONFLICT DO NOTHING`,
    );
  }

  async claim(queue: string, limit: number, now: number, leaseMs: number, maxAttempts: number): Promise<Array<Job & { attempt: number }>> {
    return transaction(this.pool, async (client) => {
      // A crashed worker's job with no attempt left is dead, not run again.
      await client.query(
        `UPDATE jobs SET state = 'dead', lease_until = NULL, last_error = 'its lease ran out on its last attempt (the worker stopped or crashed)', updated_at = $1
         WHERE id IN (SELECT id FROM jobs WHERE queue = $2 AND state = 'active' AND lease_until <= $1 AND attempts >= $3 FOR UPDATE SKIP LOCKED)`,
        [now, queue, maxAttempts],
      );
      const result = await client.query<JobRow>(
        `WITH due AS (
           SELECT id FROM jobs
           WHERE queue = $1 AND ((state IN ('queued', 'retry') AND run_at <= $2) OR (state = 'active' AND lease_until <= $2))
           ORDER BY CASE WHEN state = 'active' THEN lease_until ELSE run_at END, id
           LIMIT $4
           FOR UPDATE SKIP LOCKED
         )
         UPDATE jobs SET state = 'active', attempts = attempts + 1, lease_until = $3, updated_at = $2
         FROM due WHERE jobs.id = due.id
         RETURNING ${COLUMNS.split(', ').map((c) => `jobs.${c}`).join(', ')}`,
        [queue, now, now + leaseMs, limit],
      );
      return result.rows.sort((a, b) => a.run_at - b.run_at || a.id - b.id).map((row) => ({ ...toJob(row), attempt: row.attempts }));
    });
  }

  /** A shared store: other servers' workers may be alive, so no lease ends early; they run out. */
  async releaseAbandoned(): Promise<number> {
    return 0;
  }

  async renew(claim: Claim, until: number): Promise<boolean> {
    return this.held('lease_until = $1', [until], claim);
  }

  async complete(claim: Claim, now: number): Promise<boolean> {
    return this.held("state = 'done', lease_until = NULL, updated_at = $1", [now], claim);
  }

  async fail(claim: Claim, error: string, retryAt: number | null, now: number): Promise<boolean> {
    const message = error.slice(0, DEFAULTS.jobErrorMaxLength);
    if (retryAt === null) return this.held("state = 'dead', lease_until = NULL, last_error = $1, updated_at = $2", [message, now], claim);
    return this.held(`state = 'retry', lease_until = NULL, run_at = $1, last_error = $2, updated_at = $3, ${KEEP_KEY_UNLESS_TAKEN}`, [retryAt, message, now], claim);
  }

  /** Changes a job only while this claim holds it. `set` numbers its parameters from $1. */
  private async held(set: string, values: unknown[], claim: Claim): Promise<boolean> {
    if (!ID.test(claim.id)) return false;
    const n = values.length;
    const result = await this.pool.query(`UPDATE jobs SET ${set} WHERE id = $${n + 1} AND state = 'active' AND attempts = $${n + 2}`, [...values, Number(claim.id), claim.attempt]);
    return changed(result) > 0;
  }

  async get(id: string): Promise<Job | null> {
    if (!ID.test(id)) return null;
    const row = (await this.pool.query<JobRow>(`SELECT ${COLUMNS} FROM jobs WHERE id = $1`, [Number(id)])).rows[0];
    return row ? toJob(row) : null;
  }

  async list(filter: { state?: JobState; queue?: string; limit: number }): Promise<Job[]> {
    const result = await this.pool.query<JobRow>(
      `SELECT ${COLUMNS} FROM jobs WHERE ($1::text IS NULL OR state = $1) AND ($2::text IS NULL OR queue = $2) ORDER BY updated_at DESC, id DESC LIMIT $3`,
      [filter.state ?? null, filter.queue ?? null, filter.limit],
    );
    return result.rows.map(toJob);
  }

  async retry(id: string, now: number): Promise<boolean> {
    if (!ID.test(id)) return false;
    const result = await this.pool.query(`UPDATE jobs SET state = 'queued', attempts = 0, run_at = $1, updated_at = $1, ${KEEP_KEY_UNLESS_TAKEN} WHERE id = $2 AND state = 'dead'`, [
      now,
      Number(id),
    ]);
    return changed(result) > 0;
  }

  async counts(): Promise<Array<{ queue: string; state: JobState; count: number }>> {
    const result = await this.pool.query<{ queue: string; state: JobState; count: number }>(
      'SELECT queue, state, count(*) AS count FROM jobs GROUP BY state, queue ORDER BY queue, state',
    );
    return result.rows;
  }

  async pruneDone(before: number): Promise<number> {
    return changed(await this.pool.query("DELETE FROM jobs WHERE state = 'done' AND updated_at < $1", [before]));
  }

  async fireSchedule(name: string, now: number, nextAt: number, job: NewJob): Promise<string | null> {
    return transaction(this.pool, async (client) => {
      if (changed(await client.query('INSERT INTO job_schedules (name, next_at) VALUES ($1, $2) ON CONFLICT DO NOTHING', [name, nextAt])) > 0) return null;
      // The claim of a slot is this one conditional update: a second server firing the same slot
      // waits on the row lock, then finds it moved on. The slot only moves forward, so a caller
      // with an older clock reading (a slow tick, a server behind) can never hand a slot back.
      const claimed = await client.query('UPDATE job_schedules SET next_at = $1 WHERE name = $2 AND next_at <= $3 AND next_at < $1', [nextAt, name, now]);
      if (changed(claimed) === 0) return null;
      return (await this.enqueueWith(client, [job], now))[0] ?? null;
    });
  }

  async shortenSchedule(name: string, nextAt: number, beyond: number): Promise<boolean> {
    return changed(await this.pool.query('UPDATE job_schedules SET next_at = $1 WHERE name = $2 AND next_at > $3', [nextAt, name, beyond])) > 0;
  }
}
