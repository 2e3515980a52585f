import type { Database } from 'better-sqlite3';
import { DEFAULTS } from '@parley/schema';
import type { Claim, Job, JobState, JobStore, NewJob } from '../Storage';
import type { GroupCommit } from './GroupCommit';
import { statementCache } from './statementCache';

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

/**
 * A key stays on a job going back to waiting only if no other job of its
 * queue holds it meanwhile (the unique index covers waiting jobs only); the
 * other one does the same work, and handlers are idempotent, so both run.
 */
const KEEP_KEY_UNLESS_TAKEN = `dedupe_key = CASE WHEN EXISTS (
  SELECT 1 FROM jobs twin WHERE twin.queue = jobs.queue AND twin.dedupe_key = jobs.dedupe_key
    AND twin.state IN ('queued', 'retry') AND twin.id <> jobs.id) THEN NULL ELSE dedupe_key END`;

export class SqliteJobStore implements JobStore {
  private readonly sql: ReturnType<typeof statementCache>;

  constructor(
    private readonly db: Database,
    private readonly commits: GroupCommit,
  ) {
    this.sql = statementCache(db);
  }

  enqueue(jobs: NewJob[], now = Date.now()): Promise<Array<string | null>> {
    return this.commits.run(() => this.enqueueNow(jobs, now));
  }

  /** Inside a transaction already open (an event's insert, a group commit). */
  enqueueNow(jobs: NewJob[], now = Date.now()): Array<string | null> {
    const insert = this.sql(
      'INSERT INTO jobs (queue, data, state, attempts, run_at, dedupe_key, created_at, updated_at) VALUES (?, ?, \'queued\', 0, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
    );
    return jobs.map((job) => {
      const result = insert.run(job.queue, JSON.stringify(job.data ?? null), job.runAt ?? now, job.key ?? null, now, now);
      return result.changes === 0 ? null : String(result.lastInsertRowid);
    });
  }

  async claim(queue: string, limit: number, now: number, leaseMs: number, maxAttempts: number): Promise<Array<Job & { attempt: number }>> {
    return this.db.transaction(() => {
      // A crashed worker's job with no attempt left is dead, not run again.
      this.sql(
        "UPDATE jobs SET state = 'dead', lease_until = NULL, last_error = 'its lease ran out on its last attempt (the worker stopped or crashed)', updated_at = ? WHERE queue = ? AND state = 'active' AND lease_until <= ? AND attempts >= ?",
      ).run(now, queue, now, maxAttempts);
      const rows = this.sql(
        `UPDATE jobs SET state = 'active', attempts = attempts + 1, lease_until = :until, updated_at = :now WHERE id IN (
           SELECT id FROM (
             SELECT id, run_at AS due FROM jobs WHERE queue = :queue AND state IN ('queued', 'retry') AND run_at <= :now
             UNION ALL
             SELECT id, lease_until AS due FROM jobs WHERE queue = :queue AND state = 'active' AND lease_until <= :now
           ) ORDER BY due, id LIMIT :limit
         ) RETURNING ${COLUMNS}`,
      ).all({ queue, now, until: now + leaseMs, limit }) as JobRow[];
      return rows.sort((a, b) => a.run_at - b.run_at || a.id - b.id).map((row) => ({ ...toJob(row), attempt: row.attempts }));
    }).immediate();
  }

  async releaseAbandoned(now: number): Promise<number> {
    return this.sql("UPDATE jobs SET lease_until = ? WHERE state = 'active' AND lease_until > ?").run(now, now).changes;
  }

  async renew(claim: Claim, until: number): Promise<boolean> {
    return this.held('lease_until = ?', [until], claim);
  }

  async complete(claim: Claim, now: number): Promise<boolean> {
    return this.held("state = 'done', lease_until = NULL, updated_at = ?", [now], claim);
  }

  async fail(claim: Claim, error: string, retryAt: number | null, now: number): Promise<boolean> {
    const message = error.slice(0, DEFAULTS.jobErrorMaxLength);
    if (retryAt === null) return this.held("state = 'dead', lease_until = NULL, last_error = ?, updated_at = ?", [message, now], claim);
    return this.held(`state = 'retry', lease_until = NULL, run_at = ?, last_error = ?, updated_at = ?, ${KEEP_KEY_UNLESS_TAKEN}`, [retryAt, message, now], claim);
  }

  /** Changes a job only while this claim holds it: a worker whose lease ran out changes nothing. */
  private held(set: string, values: unknown[], claim: Claim): boolean {
    return this.sql(`UPDATE jobs SET ${set} WHERE id = ? AND state = 'active' AND attempts = ?`).run(...values, Number(claim.id), claim.attempt).changes > 0;
  }

  async get(id: string): Promise<Job | null> {
    if (!/^\d{1,18}$/.test(id)) return null;
    const row = this.sql(`SELECT ${COLUMNS} FROM jobs WHERE id = ?`).get(Number(id)) as JobRow | undefined;
    return row ? toJob(row) : null;
  }

  async list(filter: { state?: JobState; queue?: string; limit: number }): Promise<Job[]> {
    const rows = this.sql(
      `SELECT ${COLUMNS} FROM jobs WHERE (:state IS NULL OR state = :state) AND (:queue IS NULL OR queue = :queue) ORDER BY updated_at DESC, id DESC LIMIT :limit`,
    ).all({ state: filter.state ?? null, queue: filter.queue ?? null, limit: filter.limit }) as JobRow[];
    return rows.map(toJob);
  }

  async retry(id: string, now: number): Promise<boolean> {
    if (!/^\d{1,18}$/.test(id)) return false;
    return (
      this.sql(`UPDATE jobs SET state = 'queued', attempts = 0, run_at = ?, updated_at = ?, ${KEEP_KEY_UNLESS_TAKEN} WHERE id = ? AND state = 'dead'`).run(now, now, Number(id))
        .changes > 0
    );
  }

  async counts(): Promise<Array<{ queue: string; state: JobState; count: number }>> {
    return this.sql('SELECT queue, state, count(*) AS count FROM jobs GROUP BY state, queue ORDER BY queue, state').all() as Array<{
      queue: string;
      state: JobState;
      count: number;
    }>;
  }

  async pruneDone(before: number): Promise<number> {
    return this.sql("DELETE FROM jobs WHERE state = 'done' AND updated_at < ?").run(before).changes;
  }

  async fireSchedule(name: string, now: number, nextAt: number, job: NewJob): Promise<string | null> {
    return this.db.transaction(() => {
      if (this.sql('INSERT INTO job_schedules (name, next_at) VALUES (?, ?) ON CONFLICT DO NOTHING').run(name, nextAt).changes > 0) return null;
      // As on PostgreSQL: the slot only moves forward, so an older clock reading never hands it back.
      if (this.sql('UPDATE job_schedules SET next_at = ? WHERE name = ? AND next_at <= ? AND next_at < ?').run(nextAt, name, now, nextAt).changes === 0) return null;
      return this.enqueueNow([job], now)[0] ?? null;
    }).immediate();
  }

  async shortenSchedule(name: string, nextAt: number, beyond: number): Promise<boolean> {
    return this.sql('UPDATE job_schedules SET next_at = ? WHERE name = ? AND next_at > ?').run(nextAt, name, beyond).changes > 0;
  }
}
