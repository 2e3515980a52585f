/**
 * Profiles one benchmark scenario on the server side, for naming the cause of
 * a loss: the server's CPU profile covers only the measured window (set-up
 * and connection excluded), then is summarized by package and function.
 *
 *   tsx scripts/bench/profile.ts fanout [--subscribers=1000] [--messages=100] [--targets=parley,hocuspocus]
 *   tsx scripts/bench/profile.ts throughput [--rate=2000] [--seconds=5]
 *   tsx scripts/bench/profile.ts events [--seconds=5]
 *   tsx scripts/bench/profile.ts catchup [--history=100000] [--missed=100] [--rounds=5]
 *   tsx scripts/bench/profile.ts steady [--warmup=5000] [--messages=1000]
 *
 * `steady` is the per-message benchmarks' A -> B driver (lib/lockstep.ts, renewals followed)
 * after a warm-up long enough for V8 to stop optimizing: with `--trace-opt`, Parley's server
 * still completed 156 optimizations in the 1,000 messages after a 1,250-message warm-up, 4-7 per
 * 1,000 after 5,000 (see docs/PERFORMANCE.md). A shorter warm-up profiles the compiler.
 *
 * Profiles land in bench-results/profiles/<scenario>-<target>.cpuprofile. Run it pinned like the
 * benchmark: `taskset -c 1 npx tsx scripts/bench/profile.ts fanout`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sleep, withTimeout, type ChatClient } from './lib/client';
import { openLockstep } from './lib/lockstep';
import { closeAll, connectMany, users } from './lib/metric';
import { formatSummary, summarizeProfile } from './lib/profile';
import { repoRoot, TARGETS, withServer, type BenchServer, type TargetName } from './lib/server';
import { fmt, summarize } from './lib/stats';
import { makeTarget, SERVICE_USER, type Subscriber, type Target } from './lib/targets';
import { numberOption } from './lib/args';

const [scenario = 'fanout', ...rest] = process.argv.slice(2);
const targets = (rest.find((a) => a.startsWith('--targets='))?.split('=')[1]?.split(',') ?? ['parley', 'hocuspocus']).filter((t): t is TargetName => (TARGETS as readonly string[]).includes(t));
const outDir = join(repoRoot, 'bench-results', 'profiles');
mkdirSync(outDir, { recursive: true });

async function fanout(target: Target, window: (body: () => Promise<void>) => Promise<void>): Promise<string> {
  const size = numberOption('subscribers', 1000);
  const count = numberOption('messages', 100);
  const ids = users(`pf${size}-`, size);
  const conversation = await target.createConversation(['pf-sender', ...ids]);
  const sender = await target.connect('pf-sender', conversation, { awareness: true });
  const subscribers = await connectMany(size, (i) => target.subscribe(ids[i]!, conversation, 120_000, /pf-\d+/g), 25);
  let current = '';
  let remaining = 0;
  let wake = (): void => {};
  for (const s of subscribers) s.onIds = (got) => void (got.includes(current) && --remaining === 0 && wake());
  const latencies: number[] = [];
  const send = async (i: number): Promise<void> => {
    current = `pf-${i}`;
    remaining = size;
    const all = new Promise<void>((done) => (wake = done));
    const start = performance.now();
    await withTimeout(Promise.all([sender.send(current, `profiled message ${i}`), all]), 30_000, `message ${i}`);
    latencies.push(performance.now() - start);
    await sleep(10);
  };
  try {
    for (let i = 0; i < 10; i++) await send(i);
    latencies.length = 0;
    await window(async () => {
      for (let i = 10; i < 10 + count; i++) await send(i);
    });
    const s = summarize(latencies);
    return `fan-out to ${size}: p50 ${fmt(s.p50)} ms, p99 ${fmt(s.p99)} ms over ${s.n} messages`;
  } finally {
    closeAll([sender, ...subscribers]);
  }
}

async function throughput(target: Target, window: (body: () => Promise<void>) => Promise<void>): Promise<string> {
  const rate = numberOption('rate', 2000);
  const seconds = numberOption('seconds', 5);
  const senders: ChatClient[] = [];
  const readers: Subscriber[] = [];
  for (let c = 0; c < 50; c++) {
    const ids = [`pt${c}-r0`, `pt${c}-r1`, `pt${c}-r2`];
    const conversation = await target.createConversation([`pt${c}-s`, ...ids]);
    senders.push(await target.connect(`pt${c}-s`, conversation, { awareness: true }));
    readers.push(...(await Promise.all(ids.map((id) => target.subscribe(id, conversation, 60_000, /pt-\d+/g)))));
  }
  let acked = 0;
  try {
    await window(async () => {
      const start = performance.now();
      let due = 0;
      while (performance.now() - start < seconds * 1000) {
        const target = Math.floor(((performance.now() - start) / 1000) * rate);
        while (due < target) {
          const i = due++;
          void senders[i % senders.length]!.send(`pt-${i}`, `profiled message ${i}`).then(() => acked++);
        }
        await sleep(5);
      }
    });
    return `${rate} msg/s offered for ${seconds} s: ${acked} acknowledged`;
  } finally {
    closeAll([...senders, ...readers]);
  }
}

async function events(server: BenchServer, window: (body: () => Promise<void>) => Promise<void>): Promise<string> {
  const seconds = numberOption('seconds', 5);
  const token = await server.token(SERVICE_USER, ['service']);
  let n = 0;
  let accepted = 0;
  await window(async () => {
    const start = performance.now();
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (performance.now() - start < seconds * 1000) {
          const i = n++;
          const response = await fetch(`${server.httpUrl}/api/events`, {
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            body: JSON.stringify({ id: `pe-${i}`, type: 'payment.received', occurredAt: new Date().toISOString(), subject: { type: 'payment', id: `p${i}` }, recipients: [`pe-user-${i % 50}`] }),
          });
          await response.arrayBuffer();
          if (response.status === 202) accepted++;
        }
      }),
    );
  });
  return `${accepted} events accepted in ${seconds} s`;
}

async function catchup(target: Target, window: (body: () => Promise<void>) => Promise<void>): Promise<string> {
  const history = numberOption('history', 100_000);
  const missed = numberOption('missed', 100);
  const rounds = numberOption('rounds', 5);
  const conversation = await target.createConversation(['pc-writer', 'pc-reader']);
  await target.seed(conversation, 'pc-writer', history);
  const reader = await target.connect('pc-reader', conversation, { timeoutMs: 300_000 });
  const writer = await target.connect('pc-writer', conversation, { timeoutMs: 300_000, awareness: true });
  const times: number[] = [];
  try {
    for (let r = 0; r < rounds; r++) {
      await reader.goOffline();
      for (let i = 0; i < missed; i += 10) await writer.sendBatch(Array.from({ length: 10 }, (_, j) => ({ id: `pc-${r}-${i + j}`, text: `missed ${i + j}` })));
      // Let deferred work after the writes (notifications) finish, so the window holds the resync alone.
      await sleep(500);
      await window(async () => {
        const start = performance.now();
        await reader.goOnline(60_000);
        times.push(performance.now() - start);
      });
    }
    const s = summarize(times);
    return `catch-up of ${missed} over ${history} history: p50 ${fmt(s.p50)} ms over ${s.n} rounds`;
  } finally {
    closeAll([reader, writer]);
  }
}

async function steady(target: Target, window: (body: () => Promise<void>) => Promise<void>): Promise<string> {
  const warmup = numberOption('warmup', 5000);
  const count = numberOption('messages', 1000);
  const conversation = await target.createConversation(['ps-a', 'ps-b']);
  const driver = await openLockstep(target, conversation, { sender: 'ps-a', receiver: 'ps-b' }, /ps-\d+-\d+/g, 120_000);
  try {
    for (let i = 0; i < warmup; i++) await driver.send(`ps-0-${i}`, `profiled message ${i}`, 60_000);
    await sleep(3000);
    const started = performance.now();
    await window(async () => {
      for (let i = 0; i < count; i++) await driver.send(`ps-1-${i}`, `profiled message ${i}`, 60_000);
      await sleep(3000); // the deferred work of the last messages (notifier, stock's debounced store)
    });
    return `${count} messages A -> B after ${warmup}, ${fmt((performance.now() - started - 3000) / count)} ms each, ${driver.renewals()} renewals followed`;
  } finally {
    driver.close();
  }
}

for (const name of targets) {
  await withServer(name, async (server) => {
    const file = join(outDir, `${scenario}-${name}.cpuprofile`);
    // Several windows (catch-up rounds) are profiled one by one and summed.
    const files: string[] = [];
    const window = async (body: () => Promise<void>): Promise<void> => {
      const part = file.replace(/\.cpuprofile$/, `.${files.length}.cpuprofile`);
      await server.profile('start');
      try {
        await body();
      } finally {
        await server.profile('stop', part);
        files.push(part);
      }
    };
    const target = makeTarget(server);
    const run = { events: () => events(server, window), throughput: () => throughput(target, window), catchup: () => catchup(target, window), fanout: () => fanout(target, window), steady: () => steady(target, window) };
    const outcome = await (run[scenario as keyof typeof run] ?? run.fanout)();
    const text = `${formatSummary(`${scenario} on ${name} (${outcome})`, summarizeProfile(files))}\n`;
    writeFileSync(file.replace(/\.cpuprofile$/, '.txt'), text);
    console.log(text);
  });
}
