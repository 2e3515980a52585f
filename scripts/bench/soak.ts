/**
 * Soak: `npm run soak -- --minutes 30` (default 30; `--minutes 1` for a smoke).
 * Mixed load against a real server process: WebSocket chat, REST sends,
 * business events and clients reconnecting. RSS (from /proc), heap (the
 * server's /metrics) and /healthz latency are sampled from outside. Verdict:
 * memory flat (RSS and heap slope over the second half of the run) and no
 * event-loop stall (max /healthz latency). Exit 1 when it fails.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { appendMessage, conversationDocName } from '@parley/schema';
import { startServer, type TestServer } from '../../e2e/fixtures/server';
import { connectUser, createConversation, type UserClient } from '../../e2e/fixtures/clients';

const { values } = parseArgs({ options: { minutes: { type: 'string', default: '30' }, users: { type: 'string', default: '8' } } });
const minutes = Number(values.minutes);
const users = Number(values.users);
/** Thresholds robust to a shared machine: growth a leak would show, a stall a user would notice. */
const MAX_RSS_SLOPE_MB_PER_MIN = 2;
const MAX_HEAP_SLOPE_MB_PER_MIN = 1;
const MAX_HEALTHZ_MS = 1_000;

const rssMb = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

async function heapMb(server: TestServer): Promise<number> {
  const text = await (await fetch(`${server.httpUrl}/metrics`)).text();
  return Number(/^parley_process_nodejs_heap_size_used_bytes (\S+)/m.exec(text)?.[1] ?? 0) / 1024 / 1024;
}

/** Least-squares slope of y over x (minutes). */
function slope(points: Array<[number, number]>): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const num = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const den = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return den === 0 ? 0 : num / den;
}

const server = await startServer();
const started = Date.now();
const end = started + minutes * 60_000;
const names = Array.from({ length: users }, (_, i) => `soak-${i}`);
/**
 * The room changes every ROOM_MS: one ever-growing document would grow memory
 * legitimately (it is held while people are in it); rotating keeps what is live
 * bounded, so growth left over is a leak.
 */
const ROOM_MS = 30_000;
const rooms: string[] = [];
async function room(): Promise<string> {
  const index = Math.floor((Date.now() - started) / ROOM_MS);
  while (rooms.length <= index) rooms.push(await createConversation(server, names[0]!, names.slice(1), `Soak ${rooms.length}`));
  return rooms[index]!;
}
const tokens = new Map(await Promise.all(names.map(async (n) => [n, await server.token(n)] as const)));
const service = await server.token('soak-service', { roles: ['service'] });
let sent = 0;
let restSent = 0;
let events = 0;
let reconnects = 0;
let failures = 0;

async function chatter(userId: string): Promise<void> {
  let client: UserClient | null = null;
  while (Date.now() < end) {
    client = await connectUser(server, userId);
    const open = client.open(conversationDocName(await room()));
    await open.synced.catch(() => failures++);
    // Stay a while, chatting, then drop the socket and come back (a reconnect).
    const stayUntil = Math.min(end, Date.now() + 5_000 + Math.random() * 10_000, started + (Math.floor((Date.now() - started) / ROOM_MS) + 1) * ROOM_MS);
    while (Date.now() < stayUntil) {
      appendMessage(open.doc, { id: `${userId}-${sent++}`, author: userId, text: `soak ${sent} ${'x'.repeat(Math.floor(Math.random() * 400))}` });
      await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
    }
    await open.acknowledged(10_000).catch(() => failures++);
    client.destroy();
    reconnects++;
  }
}

async function restAndEvents(): Promise<void> {
  while (Date.now() < end) {
    const author = names[Math.floor(Math.random() * names.length)]!;
    const answer = await server.api(`/api/conversations/${await room()}/messages`, { token: tokens.get(author), body: { text: `rest ${restSent++}` } });
    if (answer.status !== 201) failures++;
    if (restSent % 5 === 0) {
      const id = `soak-evt-${events++}`;
      const event = { id, type: 'job.started', occurredAt: new Date().toISOString(), actor: names[1], subject: { type: 'job', id: `J${events % 20}` }, recipients: [names[0]], data: {} };
      const posted = await server.api('/api/events', { token: service, body: event });
      if (posted.status !== 202) failures++;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

const samples: Array<{ min: number; rss: number; heap: number }> = [];
let maxHealthz = 0;
/** /healthz answers slower than 250 ms, with when they happened (minutes into the run). */
const slow: string[] = [];
async function sampler(): Promise<void> {
  let lastMemory = 0;
  while (Date.now() < end) {
    const t0 = performance.now();
    await fetch(`${server.httpUrl}/healthz`).then((r) => r.text());
    const took = performance.now() - t0;
    maxHealthz = Math.max(maxHealthz, took);
    if (took > 250) slow.push(`${took.toFixed(0)} ms at ${((Date.now() - started) / 60_000).toFixed(2)} min`);
    if (Date.now() - lastMemory >= 5_000) {
      lastMemory = Date.now();
      samples.push({ min: (Date.now() - started) / 60_000, rss: rssMb(server.pid), heap: await heapMb(server) });
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

process.stdout.write(`soak: ${minutes} min, ${users} users, server pid ${server.pid}\n`);
await Promise.all([...names.map((n) => chatter(n)), restAndEvents(), sampler()]);
await server.stop();

const secondHalf = samples.filter((s) => s.min >= minutes / 2);
const rssSlope = slope(secondHalf.map((s) => [s.min, s.rss]));
const heapSlope = slope(secondHalf.map((s) => [s.min, s.heap]));
const first = samples[0];
const last = samples[samples.length - 1];
const ok = rssSlope <= MAX_RSS_SLOPE_MB_PER_MIN && heapSlope <= MAX_HEAP_SLOPE_MB_PER_MIN && maxHealthz <= MAX_HEALTHZ_MS && failures === 0;
process.stdout.write(
  [
    `load: ${sent} WebSocket messages, ${restSent} REST sends, ${events} events, ${reconnects} reconnects, ${failures} failures`,
    `RSS: ${first?.rss.toFixed(1)} -> ${last?.rss.toFixed(1)} MB; slope over the second half ${rssSlope.toFixed(2)} MB/min (limit ${MAX_RSS_SLOPE_MB_PER_MIN})`,
    `heap: ${first?.heap.toFixed(1)} -> ${last?.heap.toFixed(1)} MB; slope over the second half ${heapSlope.toFixed(2)} MB/min (limit ${MAX_HEAP_SLOPE_MB_PER_MIN})`,
    `max /healthz latency: ${maxHealthz.toFixed(0)} ms (limit ${MAX_HEALTHZ_MS}); over 250 ms: ${slow.length ? slow.slice(0, 10).join(', ') : 'none'}`,
    `verdict: ${ok ? 'PASS (memory flat, no event-loop stall)' : 'FAIL'}`,
  ].join('\n') + '\n',
);
process.exit(ok ? 0 : 1);
