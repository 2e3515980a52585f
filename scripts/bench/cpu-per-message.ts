/**
 * Server CPU time per message, Parley against stock Hocuspocus, interleaved
 * round by round in one run (issue 13, items 2 and "done means"): the same
 * A -> B driver as instructions.ts, without valgrind, so it runs in a minute.
 * CPU time (user + system of the server process, from the probe) moves less
 * with the neighbours' load than latency does, but more than an instruction
 * count: read its spread over rounds, and prefer instructions.ts where it runs.
 *
 *   tsx scripts/bench/cpu-per-message.ts [--messages=150] [--warmup=5000] [--rounds=4] [--settle=2500] [--baseline=DIR]
 *
 * `--baseline=DIR` adds a third server in the same rounds: Parley as checked out in DIR (a
 * `git worktree` of another commit, its node_modules linked to this one's), and prints this
 * Parley's CPU per message against it: the effect of a change, measured side by side.
 */
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { sleep } from './lib/client';
import { openLockstep, type Lockstep } from './lib/lockstep';
import { startServer, TARGET_LABEL, type BenchServer, type TargetName } from './lib/server';
import { fmt, fmtRatio } from './lib/stats';
import { makeTarget } from './lib/targets';
import { numberOption, textOption } from './lib/args';

// The probe's memory sampler off in the servers this starts (see probe.ts): its cost is not a message's.
process.env.BENCH_PROBE_SAMPLE_MS = '0';
// Past 2x DEFAULTS.liveWindowMessages (1,000) Parley renews the document: the driver follows it (lib/lockstep.ts), and that round pays for the renewal and a resync.
const messages = numberOption('messages', 150);
// Long enough for V8 to finish optimizing Parley's hot path (see instructions.ts): shorter, and the compiler is measured.
const warmup = numberOption('warmup', 5000);
const rounds = numberOption('rounds', 4);
// Long enough for stock Hocuspocus' debounced store (2 s) and Parley's notifier to run inside the window.
const settleMs = numberOption('settle', 2500);
const baseline = textOption('baseline');
const names: Array<{ name: TargetName; label: string; entry?: string }> = [
  { name: 'parley', label: TARGET_LABEL.parley },
  { name: 'hocuspocus', label: TARGET_LABEL.hocuspocus },
  ...(baseline ? [{ name: 'parley' as const, label: `Parley at ${baseline}`, entry: resolve(baseline, 'sync-server/src/main.ts') }] : []),
];

interface Pair {
  name: TargetName;
  label: string;
  server: BenchServer;
  driver: Lockstep;
  /** Server CPU microseconds per message, per round. */
  perMessage: number[];
}

async function open({ name, label, entry }: (typeof names)[number]): Promise<Pair> {
  const server = await startServer(name, entry ? { entry } : {});
  const target = makeTarget(server);
  const conversation = await target.createConversation(['ca', 'cb']);
  const driver = await openLockstep(target, conversation, { sender: 'ca', receiver: 'cb' }, /cm-\d+-\d+/g, 60_000);
  return { name, label, server, driver, perMessage: [] };
}

async function send(pair: Pair, round: number, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    // Which half is missing is in the error: the acknowledgement, the delivery, or both.
    await pair.driver.send(`cm-${round}-${i}`, `cpu per message ${i}`, 30_000).catch((error: unknown) => {
      throw new Error(`${pair.label}: ${String(error)}\nserver log:\n${pair.server.output().slice(-3000)}`);
    });
  }
}

const cpuMicros = async (server: BenchServer): Promise<number> => {
  const { cpu } = await server.stats();
  return cpu.user + cpu.system;
};

const pairs: Pair[] = [];
const loads: number[] = [];
try {
  for (const name of names) pairs.push(await open(name));
  for (const pair of pairs) await send(pair, 0, warmup);
  await sleep(settleMs);
  for (let round = 1; round <= rounds; round++) {
    loads.push(loadavg()[0]!);
    // Rotated, so none always goes first.
    for (const pair of [...pairs.slice(round % pairs.length), ...pairs.slice(0, round % pairs.length)]) {
      const before = await cpuMicros(pair.server);
      await send(pair, round, messages);
      await sleep(settleMs);
      pair.perMessage.push(((await cpuMicros(pair.server)) - before) / messages);
    }
    console.log(`round ${round} (load ${fmt(loads.at(-1), 2)}): ${pairs.map((p) => `${p.label} ${fmt(p.perMessage.at(-1), 0)} us`).join(', ')}`);
  }
} finally {
  for (const pair of pairs) {
    pair.driver.close();
    await pair.server.dispose();
  }
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length % 2 ? sorted[(sorted.length - 1) / 2]! : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2;
};
const [parley, stock, base] = pairs;
for (const pair of pairs) console.log(`${pair.label}: ${pair.driver.renewals()} renewals followed; median ${fmt(median(pair.perMessage), 0)} us of server CPU per message (rounds ${pair.perMessage.map((v) => fmt(v, 0)).join(', ')})`);
const report = (against: Pair): void => {
  const ratios = parley!.perMessage.map((p, i) => p / against.perMessage[i]!);
  console.log(
    `Parley / ${against.label} CPU per message: median ${fmtRatio(median(ratios))} (rounds ${fmtRatio(Math.min(...ratios))}-${fmtRatio(Math.max(...ratios))}); ${messages} messages per round, ${rounds} rounds, load ${fmt(Math.min(...loads), 1)}-${fmt(Math.max(...loads), 1)}`,
  );
};
report(stock!);
if (base) report(base);
