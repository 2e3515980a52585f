/**
 * A hostile or careless service against POST /api/events (issue 11, item 2):
 * everything is validated once, at the edge, before anything is stored; a
 * duplicate or a refused event changes nothing; and events that can never be
 * applied neither stop the outbox nor hold back the others.
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
async function start() {
  const server = await startServer();
  servers.push(server);
  return server;
}

async function poster(server: TestServer) {
  const service = await server.token('shop', { roles: ['service'] });
  return (body: Record<string, unknown>) => server.api('/api/events', { token: service, body: { occurredAt: Date.now(), ...body } });
}

/**
 * Events that can never apply, with the event.apply jobs that would apply
 * them: the edge now refuses every body that would fail, so they are written
 * by hand into a stopped server's database, as the only realistic way to get
 * one. `attempts` at the queue's limit makes them dead jobs (failed for good).
 */
function brokenEvents(server: TestServer, count: number, attempts: number, prefix: string) {
  withDatabase(server, (db) => {
    const insert = db.prepare("INSERT INTO events (id, type, body, recipients, received_at) VALUES (?, 'review.created', 'not json', '[\"gus\"]', ?)");
    const job = db.prepare(
      "INSERT INTO jobs (queue, data, state, attempts, run_at, dedupe_key, last_error, created_at, updated_at) VALUES ('event.apply', json_object('eventId', ?), ?, ?, 0, ?, ?, ?, ?)",
    );
    const dead = attempts >= DEFAULTS.eventApplyMaxAttempts;
    db.transaction(() => {
      for (let i = 0; i < count; i++) {
        const id = `${prefix}-${i}`;
        insert.run(id, i);
        job.run(id, dead ? 'dead' : 'queued', attempts, dead ? null : `event:${id}`, dead ? 'not json' : null, i, i);
      }
    })();
  });
}

const good = (id: string, userId: string) => ({ id, type: 'review.created', subject: { type: 'review', id }, recipients: [userId] });

describe('hostile business events', () => {
  it('refuses at the edge what could never apply: times before 1970 or far ahead, ids in data that are not ids', async () => {
    const server = await start();
    const post = await poster(server);
    const base = { type: 'quote.sent', actor: 'pro1', subject: { type: 'quote', id: 'q1' }, recipients: ['olive'] };
    const refused = [
      { id: 'old-iso', occurredAt: '1969-12-31T23:59:59Z' },
      { id: 'old-ms', occurredAt: -1000 },
      { id: 'huge', occurredAt: 1e300 },
      { id: 'future', occurredAt: new Date(Date.now() + 2 * DEFAULTS.eventOccurredAtMaxAheadMs).toISOString() },
      { id: 'long-job', data: { jobId: 'x'.repeat(10_000) } },
      { id: 'dots-job', data: { jobId: '../../etc' } },
      { id: 'num-job', data: { jobId: 42 } },
      { id: 'bad-payee', type: 'payment.received', subject: { type: 'payment', id: 'p' }, recipients: undefined, data: { payeeId: '../x' } },
      { id: 'long-subject', type: 'job.created', subject: { type: 'job', id: 'j'.repeat(61) }, actor: 'olive' },
    ];
    for (const extra of refused) {
      const answer = await post({ ...base, ...extra });
      expect(answer, extra.id).toMatchObject({ status: 400, body: { error: { code: 'validation_failed' } } });
    }
    // None was stored: the same ids, now well-formed, are new.
    for (const { id } of refused) expect((await post({ ...base, id })).status, id).toBe(202);
    expect((await post({ ...base, id: 'epoch', occurredAt: '1970-01-01T00:00:00Z' })).status).toBe(202);
  });

  it('a duplicate changes nothing, and a refused event teaches nothing', async () => {
    const server = await start();
    const post = await poster(server);
    expect((await post({ id: 'e1', type: 'job.created', actor: 'olive', subject: { type: 'job', id: 'J1' }, recipients: ['pro1'] })).status).toBe(202);
    // The same id with another actor: a duplicate, and mallory does not become the job's owner.
    expect(await post({ id: 'e1', type: 'job.created', actor: 'mallory', subject: { type: 'job', id: 'J1' }, recipients: ['pro1'] })).toEqual({ status: 200, body: { duplicate: true } });
    expect((await post({ id: 'e2', type: 'quote.sent', actor: 'pro1', subject: { type: 'quote', id: 'q1' }, data: { jobId: 'J1' } })).status).toBe(202);
    expect((await notificationsOf(server, 'olive', 1, 10_000)).map((n) => n.kind)).toEqual(['new_quote']);
    expect(await notificationsOf(server, 'mallory', 1, 500)).toEqual([]);

    // A quote for a job nobody owns is refused (no recipients)...
    const orphan = await post({ id: 'e3', type: 'quote.sent', actor: 'pro9', subject: { type: 'quote', id: 'q9' }, data: { jobId: 'J9' } });
    expect(orphan).toMatchObject({ status: 400 });
    // ...and left nothing behind: its professional is not known for the quote, nor its job.
    expect((await post({ id: 'e4', type: 'quote.accepted', actor: 'olive', subject: { type: 'quote', id: 'q9' } })).status).toBe(400);
    expect((await post({ id: 'e5', type: 'job.created', actor: 'olive', subject: { type: 'job', id: 'J9' }, recipients: ['pro2'] })).status).toBe(202);
    expect((await post({ id: 'e6', type: 'payment.received', subject: { type: 'payment', id: 'pay9' }, data: { jobId: 'J9' } })).status).toBe(400);
  });

  it('events that failed for good do not stop the outbox, also after a restart', async () => {
    const server = await start();
    await server.stop();
    brokenEvents(server, 101, DEFAULTS.eventApplyMaxAttempts, 'dead');
    brokenEvents(server, 101, 0, 'poison');
    await server.restart();
    const post = await poster(server);
    expect((await post(good('after-dead', 'gus'))).status).toBe(202);
    expect((await notificationsOf(server, 'gus', 1, 5000)).map((n) => n.data.eventId)).toEqual(['after-dead']);
    await server.restart();
    expect((await post(good('after-restart', 'gus'))).status).toBe(202);
    expect((await notificationsOf(server, 'gus', 2, 5000)).map((n) => n.data.eventId).sort()).toEqual(['after-dead', 'after-restart']);
  });

  it('an event that keeps failing does not delay the others, and is retried on its own clock', async () => {
    const server = await start();
    await server.stop();
    brokenEvents(server, 3, 0, 'failing');
    await server.restart();
    const post = await poster(server);
    const started = Date.now();
    for (let i = 0; i < 5; i++) expect((await post(good(`ok-${i}`, 'gus'))).status).toBe(202);
    // Before the fix they waited for each failing one in turn to exhaust its attempts (about one a second: 20 s and more).
    const list = await notificationsOf(server, 'gus', 5, 8000);
    expect(list.length, `applied within ${Date.now() - started} ms`).toBe(5);
    await server.stop();
    const row = withDatabase(
      server,
      (db) => db.prepare("SELECT state, attempts, last_error, run_at FROM jobs WHERE queue = 'event.apply' AND data = json_object('eventId', 'failing-2')").get(),
      { readonly: true },
    ) as { state: string; attempts: number; last_error: string; run_at: number };
    // Tried too (not queued behind the others), and backed off (1 s, then 2 s, ...), not retried on every poll.
    expect(row.state).toBe('retry');
    expect(row.attempts).toBeGreaterThanOrEqual(1);
    expect(row.attempts).toBeLessThan(DEFAULTS.eventApplyMaxAttempts);
    expect(row.last_error).toBeTruthy();
    expect(row.run_at).toBeGreaterThan(started);
  });
});
