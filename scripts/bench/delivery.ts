/**
 * Delivery benchmark (issue 10): 10,000 notifications through Web Push and
 * email digests to the local peers (the loopback HTTPS push service that
 * checks VAPID and decrypts, the SMTP server that parses every mail), and,
 * in the same run against the same peers, the same sends made directly
 * (same sender code, same concurrency, no queue): deliveries per second both
 * ways, and the queue's overhead as their ratio.
 *
 *   npx tsx scripts/bench/delivery.ts [--users=1000] [--per-user=10]
 *
 * The notifications are created first (their steps wait PUSH_AFTER_MS and
 * EMAIL_AFTER_MS, set long), the server is stopped, their steps are made due
 * now in the database, and the server started again: the queue's run is
 * measured from the first delivery to the last, with every job due at once,
 * as after an outage.
 */
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { loadavg } from 'node:os';
import { startServer } from '../../e2e/fixtures/server';
import { startPushService, type Device } from '../../e2e/fixtures/pushService';
import { startSmtpPeer } from '../../e2e/fixtures/smtpPeer';
import { PushSender, fitPayload, topicOf } from '../../sync-server/src/delivery/PushSender';
import { Mailer } from '../../sync-server/src/delivery/Mailer';
import { digestMail } from '../../sync-server/src/delivery/digestMail';
import { devVapidKeys } from '../../sync-server/src/delivery/vapidKeys';
import { DEFAULTS } from '@parley/schema';
import { withDatabase } from '../../e2e/fixtures/database';

const arg = (name: string, fallback: number) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
const USERS = arg('users', 1000);
const PER_USER = arg('per-user', 10);
const TOTAL = USERS * PER_USER;
/** Long enough that nothing is due before every notification exists (the run then makes them due at once). */
const AFTER_MS = 600_000;
const progress = (line: string) => process.stderr.write(`[delivery bench] ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 600_000): Promise<void> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Runs `task` for 0..n-1 with `concurrency` at once. */
async function pool(n: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < n) await task(next++);
  }));
}

const itemsIn = (text: string) => (text.match(/^\* /gm) ?? []).length;
const rate = (count: number, ms: number) => (count * 1000) / ms;
const window = (times: number[]) => Math.max(...times) - Math.min(...times);

async function main(): Promise<void> {
  progress("starting peers");
  const push = await startPushService();
  progress('push service up');
  const smtp = await startSmtpPeer();
  progress('smtp up');
  const load = [loadavg()[0]!];
  const peers = {
      NODE_EXTRA_CA_CERTS: push.caFile,
      PUSH_ENDPOINT_HOSTS: push.host,
      SMTP_URL: smtp.url,
      EMAIL_DIGEST_INTERVAL_MS: '0',
      DIGEST_SWEEP_MS: '250',
      HTTP_RATE_LIMIT_IP: '1000000',
  };
  const server = await startServer({ env: { ...peers, PUSH_AFTER_MS: String(AFTER_MS), EMAIL_AFTER_MS: String(AFTER_MS) } });
  const users = Array.from({ length: USERS }, (_, i) => `bench-${i}`);
  const service = await server.token('bench-service', { roles: ['service'] });
  const devices: Device[] = [];
  progress(`setting up ${USERS} users`);
  await pool(USERS, 16, async (i) => {
    const device = push.device(`d${i}`);
    devices[i] = device;
    const token = await server.token(users[i]!);
    const sub = await server.api('/api/push/subscriptions', { token, body: device.subscription });
    const contact = await server.api(`/api/users/${users[i]}/contact`, { token: service, method: 'PUT', body: { email: `${users[i]}@bench.test` } });
    if (sub.status !== 201 || contact.status !== 200) throw new Error(`setup failed: ${sub.status} ${contact.status}`);
  });

  const createdStart = Date.now();
  for (let round = 0; round < PER_USER; round++) {
    for (let from = 0; from < USERS; from += DEFAULTS.eventRecipientsMax) {
      const recipients = users.slice(from, from + DEFAULTS.eventRecipientsMax);
      const id = `bench-${round}-${from}`;
      const answer = await server.api('/api/events', { token: service, body: { id, type: 'system.announcement', occurredAt: Date.now(), subject: { type: 'news', id }, recipients, data: { title: `News ${round}`, body: 'A benchmark notification with a little text in it.' } } });
      if (answer.status !== 202) throw new Error(`event: ${answer.status}`);
    }
  }
  const queued = async (queue: string) => {
    const text = await (await fetch(`${server.httpUrl}/metrics`)).text();
    return Number(new RegExp(`parley_jobs\\{queue="${queue}",state="queued"\\} (\\d+)`).exec(text)?.[1] ?? 0);
  };
  await until('every step queued', async () => (await queued('deliver.push')) >= TOTAL && (await queued('deliver.email')) >= TOTAL);
  const createdMs = Date.now() - createdStart;
  progress(`${TOTAL} notifications and their steps stored in ${createdMs} ms`);
  await server.stop();
  withDatabase(server, (db) => db.prepare("UPDATE jobs SET run_at = ? WHERE queue LIKE 'deliver.%' AND state = 'queued'").run(Date.now()));
  load.push(loadavg()[0]!);
  // The same data, with no wait: every stored step is due now, and the digests take every notification.
  const again = await startServer({ dataDir: server.dataDir, env: { ...peers, JWT_SECRET: server.secret, PUSH_AFTER_MS: '0', EMAIL_AFTER_MS: '0' } });
  const emailedItems = () => smtp.mails.reduce((sum, m) => sum + itemsIn(String(m.text)), 0);
  progress('restarted; delivering');
  await until('every push', () => push.received.length >= TOTAL);
  progress('every push received');
  await until('every email item', () => emailedItems() >= TOTAL);
  const queuePushMs = window(push.received.map((r) => r.at));
  const queueMails = smtp.mails.length;
  const queueItems = emailedItems();
  // From the first delivery of the run (either channel: the server is up and working) to the last mail.
  const queueEmailMs = Math.max(1, Math.max(...smtp.mails.map((m) => m.receivedAt)) - Math.min(...push.received.map((r) => r.at)));
  await sleep(1000);
  const duplicates = push.received.length - TOTAL;
  await again.stop();
  load.push(loadavg()[0]!);

  progress('queue run done; sending directly');
  // The same sends, directly: same sender code and concurrency, no queue, no inbox reads, no records.
  // This process trusts the loopback push service the way the server does through NODE_EXTRA_CA_CERTS.
  https.globalAgent.options.ca = readFileSync(push.caFile);
  const vapid = devVapidKeys(server.dataDir);
  const sender = new PushSender(vapid, 'mailto:bench@localhost');
  const before = push.received.length;
  const directStart = Date.now();
  await pool(TOTAL, DEFAULTS.deliveryConcurrency, async (i) => {
    const device = devices[i % USERS]!;
    const payload = fitPayload({ id: `direct-${i}`, kind: 'system', title: 'News', body: 'A benchmark notification with a little text in it.', url: 'http://127.0.0.1/' });
    const outcome = await sender.send(device.subscription, payload, { topic: topicOf(device.id, `direct-${i}`), urgency: 'normal' });
    if (outcome.kind !== 'sent') throw new Error(`direct push: ${JSON.stringify(outcome)}`);
  });
  const directPushMs = Date.now() - directStart;
  if (push.received.length - before !== TOTAL) throw new Error('direct pushes missing');
  const mailer = new Mailer(smtp.url, 'Parley <bench@localhost>');
  const mailStart = Date.now();
  await pool(queueMails, DEFAULTS.deliveryConcurrency, async (i) => {
    const items = Array.from({ length: Math.round(TOTAL / queueMails) }, (_, k) => ({ title: `News ${k}`, conversation: null, sender: null, text: 'A benchmark notification with a little text in it.', count: 1, link: 'http://127.0.0.1/' }));
    const content = digestMail(items, 'http://127.0.0.1/', 'http://127.0.0.1/api/email/unsubscribe/x');
    const outcome = await mailer.send({ to: `direct-${i}@bench.test`, ...content, headers: {}, messageId: `<direct-${i}@bench>` });
    if (outcome.kind !== 'sent') throw new Error(`direct mail: ${JSON.stringify(outcome)}`);
  });
  const directEmailMs = Date.now() - mailStart;
  mailer.close();
  load.push(loadavg()[0]!);
  await push.close();
  await smtp.close();

  const result = {
    notifications: TOTAL,
    users: USERS,
    createdMs,
    note: 'rates over the run: push from its first to last delivery; email from the first delivery of either channel to the last mail',
    push: {
      viaQueuePerSecond: rate(TOTAL, queuePushMs),
      directPerSecond: rate(TOTAL, directPushMs),
      overhead: directPushMs / queuePushMs,
      duplicates,
    },
    email: {
      mails: queueMails,
      items: queueItems,
      viaQueueMailsPerSecond: rate(queueMails, queueEmailMs),
      viaQueueItemsPerSecond: rate(TOTAL, queueEmailMs),
      directMailsPerSecond: rate(queueMails, directEmailMs),
      overhead: directEmailMs / queueEmailMs,
    },
    loadavg1: load,
  };
  console.log(JSON.stringify(result, null, 2));
  console.log(
    `push: ${result.push.viaQueuePerSecond.toFixed(0)}/s through the queue vs ${result.push.directPerSecond.toFixed(0)}/s direct (queue at ${(result.push.overhead * 100).toFixed(0)}% of direct); ` +
      `email: ${queueMails} digests for ${TOTAL} notifications, ${result.email.viaQueueMailsPerSecond.toFixed(0)} mails/s vs ${result.email.directMailsPerSecond.toFixed(0)}/s direct; load ${load.map((l) => l.toFixed(1)).join(' -> ')}`,
  );
}

await main();
process.exit(0);
