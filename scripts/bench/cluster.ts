/**
 * Cluster mode benchmark (issue 15): 1, 2 and 3 nodes on this machine, Parley
 * (nodes on one fresh PostgreSQL schema) interleaved with stock Hocuspocus
 * (its Redis extension, each node its own SQLite file) in one run.
 *
 * Same clients for every configuration, only their placement changes:
 * WRITERS writers and READERS silent readers on one conversation, both spread
 * round-robin over the nodes. Each writer sends as fast as it is acknowledged
 * (one message in flight per writer, the next once the previous is
 * acknowledged), `--messages` in all. Measured:
 *  - written msg/s: messages / time until the last acknowledgement;
 *  - delivered msg/s: reader receipts / time until the last receipt;
 *  - fan-out latency: writer's send -> a reader's receipt, p50/p99, split by
 *    whether the reader is on the writer's node or another one;
 *  - server CPU per message: utime+stime of all node processes over the
 *    measured window (PostgreSQL and Redis themselves are not counted).
 *
 * Parley nodes run as the contract's cluster mode does: DATABASE_URL and
 * REDIS_URL (awareness and presence over Redis); `--no-redis` leaves Redis out.
 * `--profile=<dir>` writes a V8 CPU profile of every Parley node over the
 * measured window (`<dir>/parley-<nodes>n-node<i>.cpuprofile`; summarize one
 * with scripts/bench/profile-summary.ts).
 *
 *   node --import tsx scripts/bench/cluster.ts [--messages=300] [--nodes=1,2,3] [--cpu=0-1] [--no-redis] [--profile=<dir>]
 */
import { mkdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { startCluster, processCpuMs, type Cluster } from './lib/cluster';
import { sleep, type ChatClient } from './lib/client';
import { TARGET_LABEL } from './lib/server';
import { fmt, summarize } from './lib/stats';
import { makeTarget } from './lib/targets';

const arg = (name: string): string | undefined => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const MESSAGES = Number(arg('messages') ?? 300);
const SIZES = (arg('nodes') ?? '1,2,3').split(',').map(Number);
/** Both cores by default: nodes of one cluster compete as they would on one host. */
const CPU = arg('cpu') ?? '0-1';
const WITH_REDIS = !process.argv.includes('--no-redis');
const PROFILE_DIR = arg('profile');
const WRITERS = 3;
const READERS = 6;
const WARMUP = 5;
const DELIVERY_TIMEOUT_MS = 30_000;

interface Row {
  target: string;
  nodes: number;
  written: number;
  writtenPerSec: number;
  deliveredPerSec: number;
  delivered: number;
  expected: number;
  same: ReturnType<typeof summarize>;
  cross: ReturnType<typeof summarize>;
  cpuMsPerMessage: number;
}

const load = (): string => loadavg().map((l) => l.toFixed(2)).join(' ');

async function measure(cluster: Cluster): Promise<Row> {
  const size = cluster.nodes.length;
  const targets = cluster.nodes.map(makeTarget);
  const writerNames = Array.from({ length: WRITERS }, (_, i) => `w${i}`);
  const readerNames = Array.from({ length: READERS }, (_, i) => `r${i}`);
  const conversation = await targets[0]!.createConversation([...writerNames, ...readerNames]);
  const nodeOf = (i: number): number => i % size;
  const writers = await Promise.all(writerNames.map((user, i) => targets[nodeOf(i)]!.connect(user, conversation, { awareness: false })));
  const readers = await Promise.all(readerNames.map((user, i) => targets[nodeOf(i)]!.connect(user, conversation, { awareness: false })));
  const all: ChatClient[] = [...writers, ...readers];
  try {
    const sent = new Map<string, { at: number; node: number }>();
    const same: number[] = [];
    const cross: number[] = [];
    let delivered = 0;
    let lastDelivery = 0;
    readers.forEach((reader, r) => {
      reader.onMessage = (message) => {
        const origin = sent.get(message.id);
        if (!origin) return;
        const now = performance.now();
        (origin.node === nodeOf(r) ? same : cross).push(now - origin.at);
        delivered++;
        lastDelivery = now;
      };
    });
    // Warm-up: documents loaded on every node, code paths compiled; not counted.
    await Promise.all(writers.map(async (writer, w) => {
      for (let i = 0; i < WARMUP; i++) await writer.send(`warm-${w}-${i}`, `warm-up ${i}`);
    }));
    await sleep(500);
    const profiling = PROFILE_DIR !== undefined && cluster.name === 'parley';
    if (profiling) await Promise.all(cluster.nodes.map((node) => node.profile('start')));
    const cpuBefore = cluster.nodes.reduce((sum, node) => sum + processCpuMs(node.pid()), 0);
    const start = performance.now();
    const perWriter = Math.ceil(MESSAGES / WRITERS);
    let written = 0;
    await Promise.all(writers.map(async (writer, w) => {
      for (let i = 0; i < perWriter && written < MESSAGES; i++) {
        const id = `m-${w}-${i}`;
        written++;
        sent.set(id, { at: performance.now(), node: nodeOf(w) });
        await writer.send(id, `message ${i} from writer ${w}`);
      }
    }));
    const acknowledged = performance.now();
    const expected = written * READERS;
    const until = performance.now() + DELIVERY_TIMEOUT_MS;
    while (delivered < expected && performance.now() < until) await sleep(5);
    const cpuMs = cluster.nodes.reduce((sum, node) => sum + processCpuMs(node.pid()), 0) - cpuBefore;
    if (profiling) {
      await Promise.all(cluster.nodes.map((node, i) => node.profile('stop', join(PROFILE_DIR, `parley-${size}n-node${i}.cpuprofile`))));
    }
    return {
      target: TARGET_LABEL[cluster.name],
      nodes: size,
      written,
      writtenPerSec: written / ((acknowledged - start) / 1000),
      deliveredPerSec: delivered / ((Math.max(lastDelivery, acknowledged) - start) / 1000),
      delivered,
      expected,
      same: summarize(same),
      cross: summarize(cross),
      cpuMsPerMessage: cpuMs / written,
    };
  } finally {
    all.forEach((client) => client.close());
  }
}

if (PROFILE_DIR) mkdirSync(resolve(PROFILE_DIR), { recursive: true });
const rows: Row[] = [];
const loadBefore = load();
const startedAt = new Date().toISOString();
for (const size of SIZES) {
  for (const name of ['parley', 'hocuspocus'] as const) {
    const cluster = await startCluster(name, size, CPU, { parleyRedis: WITH_REDIS });
    try {
      const row = await measure(cluster);
      rows.push(row);
      console.error(`${row.target}, ${size} node(s): ${fmt(row.writtenPerSec)} msg/s written, load ${load()}`);
    } finally {
      await cluster.dispose();
    }
  }
}

console.log(`\n${startedAt}; load average (1/5/15 min) at start: ${loadBefore}; at end: ${load()}`);
console.log(`${MESSAGES} messages per configuration, ${WRITERS} writers (one acknowledged message in flight each) and ${READERS} readers spread round-robin over the nodes; servers on CPUs ${CPU}; Parley nodes ${WITH_REDIS ? 'with DATABASE_URL and REDIS_URL' : 'with DATABASE_URL only'}\n`);
console.log('| server | nodes | written msg/s | delivered msg/s | delivered | same-node p50 / p99 ms | cross-node p50 / p99 ms | server CPU ms / message |');
console.log('|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  const lat = (s: Row['same']): string => (s.n ? `${fmt(s.p50)} / ${fmt(s.p99)}` : '-');
  console.log(`| ${r.target} | ${r.nodes} | ${fmt(r.writtenPerSec)} | ${fmt(r.deliveredPerSec)} | ${r.delivered}/${r.expected} | ${lat(r.same)} | ${lat(r.cross)} | ${fmt(r.cpuMsPerMessage)} |`);
}
