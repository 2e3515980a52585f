/**
 * The durable job queue on a real server (issue 10, items 1, 2 and 8): events
 * applied by the queue survive kill -9 and upgrades, dead jobs are listed and
 * retried through the admin API, /metrics counts jobs, and the recurring
 * clean-up loads only the inboxes that may have something to remove.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULTS } from '@parley/schema';
import { startServer, type TestServer } from './fixtures/server';
import { withDatabase } from './fixtures/database';
import { notificationsOf } from './fixtures/notifications';

const servers: TestServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.kill().catch(() => {});
});
async function start(env: Record<string, string> = {}) {
  const server = await startServer({ env });
  servers.push(server);
  return server;
}

const review = (id: string, userId: string) => ({ id, type: 'review.created', occurredAt: Date.now(), subject: { type: 'review', id }, recipients: [userId] });

/** An accepted event whose job an earlier run gave up on (the disk was full, say): its body is fine now. */
function deadEvent(server: TestServer, id: string, userId: string) {
  withDatabase(server, (db) => {
    db.prepare("INSERT INTO events (id, type, body, recipients, received_at) VALUES (?, 'review.created', ?, ?, 1)").run(id, JSON.stringify(review(id, userId)), JSON.stringify([userId]));
    db.prepare(
      "INSERT INTO jobs (queue, data, state, attempts, run_at, last_error, created_at, updated_at) VALUES ('event.apply', json_object('eventId', ?), 'dead', ?, 0, 'SQLITE_FULL: database or disk is full', 1, 1)",
    ).run(id, DEFAULTS.eventApplyMaxAttempts);
  });
}

const gauge = (metrics: string, queue: string, state: string) => Number(new RegExp(`parley_jobs\\{queue="${queue}",state="${state}"\\} (\\d+)`).exec(metrics)?.[1] ?? NaN);

describe('the job queue on a real server', () => {
  it('an event answered 202 and then kill -9 at once is applied once after restart, by its job', async () => {
    const server = await start();
    const service = await server.token('shop', { roles: ['service'] });
    for (let round = 0; round < 3; round++) {
      const posted = server.api('/api/events', { token: service, body: review(`k-${round}`, 'kim') });
      expect((await posted).status).toBe(202);
      await server.kill();
      await server.restart();
    }
    const list = await notificationsOf(server, 'kim', 3, 10_000);
    expect(list.map((n) => n.id).sort()).toEqual(['evt:k-0', 'evt:k-1', 'evt:k-2']);
    const admin = await server.token('root', { roles: ['admin'] });
    const jobs = (await server.api('/api/admin/jobs?queue=event.apply', { token: admin })).body.jobs as Array<{ state: string }>;
    expect(jobs.map((j) => j.state)).toEqual(['done', 'done', 'done']);
  });

  it('lists jobs with their last error to an admin or a service, retries a dead one, and counts jobs in /metrics', async () => {
    const server = await start();
    await server.stop();
    deadEvent(server, 'stuck', 'lea');
    await server.restart();
    const admin = await server.token('root', { roles: ['admin'] });
    const service = await server.token('shop', { roles: ['service'] });
    const user = await server.token('lea');
    expect((await server.api('/api/admin/jobs', { token: user })).status).toBe(403);
    expect((await server.api('/api/admin/jobs')).status).toBe(401);
    expect((await server.api('/api/admin/jobs?state=lost', { token: admin })).status).toBe(400);
    expect((await server.api('/api/admin/jobs?limit=100000', { token: admin })).status).toBe(400);
    const dead = await server.api('/api/admin/jobs?state=dead', { token: service });
    expect(dead.status).toBe(200);
    expect(dead.body.jobs).toEqual([
      expect.objectContaining({ queue: 'event.apply', state: 'dead', data: { eventId: 'stuck' }, attempts: DEFAULTS.eventApplyMaxAttempts, lastError: expect.stringContaining('disk is full') }),
    ]);
    expect(gauge((await server.api('/metrics')).body, 'event.apply', 'dead')).toBe(1);
    // Dead means nothing runs it: lea has no notification until it is retried.
    expect(await notificationsOf(server, 'lea', 1, 1500)).toEqual([]);
    const id = dead.body.jobs[0].id as string;
    const retried = await server.api(`/api/admin/jobs/${id}/retry`, { token: admin, method: 'POST' });
    expect(retried).toMatchObject({ status: 200, body: { job: { id } } });
    expect(retried.body.job.attempts).toBeLessThanOrEqual(1); // from the first attempt again (it may be running already)
    expect((await notificationsOf(server, 'lea', 1, 10_000)).map((n) => n.id)).toEqual(['evt:stuck']);
    expect((await server.api(`/api/admin/jobs/${id}/retry`, { token: admin, method: 'POST' })).status).toBe(409);
    expect((await server.api('/api/admin/jobs/999999/retry', { token: admin, method: 'POST' })).status).toBe(404);
    expect((await server.api('/api/admin/jobs/abc/retry', { token: admin, method: 'POST' })).status).toBe(400);
    expect((await server.api(`/api/admin/jobs/${id}/retry`, { token: user, method: 'POST' })).status).toBe(403);
    const metrics = (await server.api('/metrics')).body as string;
    expect(gauge(metrics, 'event.apply', 'dead')).toBe(0);
    expect(gauge(metrics, 'event.apply', 'done')).toBe(1);
    expect(metrics).toMatch(/parley_job_attempts_total\{queue="event.apply",outcome="done"\} 1/);
  });

  it('events still pending in an older database are applied after the upgrade', async () => {
    const server = await start();
    await server.stop();
    withDatabase(server, (db) => {
      // As the build before the queue left it: no jobs tables, the outbox's index, an event accepted but not applied.
      db.exec('DROP TABLE jobs; DROP TABLE job_schedules; DROP TABLE doc_sweeps; DELETE FROM schema_migrations WHERE version = 5');
      db.exec('CREATE INDEX events_due ON events (attempts, next_attempt_at) WHERE applied_at IS NULL');
      db.prepare("INSERT INTO events (id, type, body, recipients, received_at) VALUES ('old-1', 'review.created', ?, '[\"max\"]', 1)").run(JSON.stringify(review('old-1', 'max')));
    });
    await server.restart();
    expect((await notificationsOf(server, 'max', 1, 10_000)).map((n) => n.id)).toEqual(['evt:old-1']);
  });

  it('the clean-up loads only the inboxes that changed since their last sweep or have something due', async () => {
    const server = await start({ CLEANUP_MAX_AGE_DAYS: '0.00001' }); // under a second
    const service = await server.token('shop', { roles: ['service'] });
    const users = Array.from({ length: 6 }, (_, i) => `sw${i}`);
    for (const userId of users) expect((await server.api('/api/events', { token: service, body: review(`r-${userId}`, userId) })).status).toBe(202);
    for (const userId of users) await notificationsOf(server, userId, 1);
    const admin = await server.token('root', { roles: ['admin'] });
    const cleanup = async () => (await server.api('/api/admin/cleanup', { token: admin, method: 'POST' })).body;
    expect((await cleanup()).inboxes).toBeGreaterThanOrEqual(users.length);
    // Nothing changed, nothing settled: no inbox is loaded again (the timer-based clean-up loaded every known user's).
    expect(await cleanup()).toMatchObject({ inboxes: 0, notificationsRemoved: 0 });
    // One user reads theirs: only that inbox is due (now, for its change; later, for its expiry).
    await server.api('/api/notifications/evt:r-sw3/read', { token: await server.token('sw3'), method: 'POST' });
    expect(await cleanup()).toMatchObject({ inboxes: 1, notificationsRemoved: 0 });
    expect(await cleanup()).toMatchObject({ inboxes: 0 });
    await new Promise((r) => setTimeout(r, 1200));
    expect(await cleanup()).toMatchObject({ inboxes: 1, notificationsRemoved: 1 });
    expect((await server.api('/api/notifications', { token: await server.token('sw3') })).body.notifications).toEqual([]);
  });

  it('the clean-up runs by itself as a recurring job, once per slot, and its runs load only what is due', async () => {
    const server = await start({ CLEANUP_MAX_AGE_DAYS: '0.00001', CLEANUP_INTERVAL_MS: '1000' });
    const service = await server.token('shop', { roles: ['service'] });
    const users = Array.from({ length: 4 }, (_, i) => `rc${i}`);
    for (const userId of users) expect((await server.api('/api/events', { token: service, body: review(`r-${userId}`, userId) })).status).toBe(202);
    for (const userId of users) await notificationsOf(server, userId, 1);
    const reader = await server.token('rc2');
    expect((await server.api('/api/notifications/evt:r-rc2/read', { token: reader, method: 'POST' })).status).toBe(200);
    // Nobody calls the admin route: the schedule's runs remove the read one once it is past its age.
    const started = Date.now();
    let left: unknown[] = [{}];
    while (left.length > 0 && Date.now() - started < 15_000) {
      await new Promise((r) => setTimeout(r, 200));
      left = (await server.api('/api/notifications', { token: reader })).body.notifications;
    }
    expect(left).toEqual([]);
    const admin = await server.token('root', { roles: ['admin'] });
    // The first run may already have removed it (a loaded machine runs slots late): wait for a second one.
    const doneRuns = async () => (await server.api('/api/admin/jobs?queue=cleanup&state=done', { token: admin })).body.jobs as Array<{ key: string | null; createdAt: number }>;
    let runs = await doneRuns();
    for (const until = Date.now() + 15_000; runs.length < 2 && Date.now() < until; runs = await doneRuns()) await new Promise((r) => setTimeout(r, 200));
    expect(runs.length).toBeGreaterThanOrEqual(2);
    expect(runs.every((j) => j.key === 'schedule:cleanup')).toBe(true);
    // One run per slot of a second (never several for one slot).
    const slots = runs.map((j) => Math.floor(j.createdAt / 1000));
    expect(new Set(slots).size).toBe(slots.length);
    // The recurring runs swept every inbox already (the removal is a change: swept once more a slot later),
    // so a run now has none to load; the unread ones stay.
    await new Promise((r) => setTimeout(r, 2500));
    expect(await (await server.api('/api/admin/cleanup', { token: admin, method: 'POST' })).body).toMatchObject({ inboxes: 0 });
    for (const userId of ['rc0', 'rc1', 'rc3']) expect((await notificationsOf(server, userId, 1)).length).toBe(1);
  });
});
