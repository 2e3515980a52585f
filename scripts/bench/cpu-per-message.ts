/**
 * Server CPU time per message, Parley against stock Hocuspocus, interleaved
 * round by round in one run (issue 13, items 2 and "done means"): the same
 * A -> B driver as instructions.ts, without valgrind, so it runs in a minute.
 * CPU time (user + system of the server process, from the probe) moves less
 * with the neighbours' load than latency does, but more than an instruction
 * count: read its spread over rounds, and prefer instructions.ts where it runs.
 *
 *   tsx scripts/bench/cpu-per-message.ts [--messages=150] [--warmup=300] [--rounds=4] [--settle=2500]
 */
import { loadavg } from 'node:os';
import { sleep, withTimeout, type ChatClient } from './lib/client';
import { startServer, TARGET_LABEL, type BenchServer, type TargetName } from './lib/server';
import { fmt, fmtRatio } from './lib/stats';
import { makeTarget, type Subscriber } from './lib/targets';

// The probe's memory sampler off in the servers this starts (see probe.ts): its cost is not a message's.
process.env.BENCH_PROBE_SAMPLE_MS = '0';
const args = process.argv.slice(2);
const option = (name: string, fallback: number): number => Number(args.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback);
// Warm-up plus every round stay under 1,000 messages: past 2x DEFAULTS.liveWindowMessages Parley renews the document (a reconnect the driver does not follow).
const messages = option('messages', 150);
const warmup = option('warmup', 300);
const rounds = option('rounds', 4);
// Long enough for stock Hocuspocus' debounced store (2 s) and Parley's notifier to run inside the window.
const settleMs = option('settle', 2500);
const names: TargetName[] = ['parley', 'hocuspocus'];

interface Pair {
  name: TargetName;
  server: BenchServer;
  sender: ChatClient;
  receiver: Subscriber;
  /** Server CPU microseconds per message, per round. */
  perMessage: number[];
}

async function open(name: TargetName): Promise<Pair> {
  const server = await startServer(name);
  const target = makeTarget(server);
  const conversation = await target.createConversation(['ca', 'cb']);
  const sender = await target.connect('ca', conversation, { awareness: true });
  const receiver = await target.subscribe('cb', conversation, 60_000, /cm-\d+-\d+/g);
  return { name, server, sender, receiver, perMessage: [] };
}

async function send(pair: Pair, round: number, count: number): Promise<void> {
  let current = '';
  let wake = (): void => {};
  pair.receiver.onIds = (ids) => void (ids.includes(current) && wake());
  for (let i = 0; i < count; i++) {
    current = `cm-${round}-${i}`;
    const delivered = new Promise<void>((done) => (wake = done));
    // Which half is missing is in the error: the acknowledgement, the delivery, or both.
    const state = { acked: false, delivered: false };
    const acked = pair.sender.send(current, `cpu per message ${i}`).then(() => void (state.acked = true));
    void delivered.then(() => (state.delivered = true));
    await withTimeout(Promise.all([acked, delivered]), 30_000, `${pair.name} message ${current}`).catch((error: unknown) => {
      throw new Error(`${String(error)} (acknowledged: ${state.acked}, delivered: ${state.delivered}, sender synced: ${pair.sender.isSynced()})\nserver log:\n${pair.server.output().slice(-3000)}`);
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
    // Rotated, so neither always goes first.
    for (const pair of round % 2 ? pairs : [...pairs].reverse()) {
      const before = await cpuMicros(pair.server);
      await send(pair, round, messages);
      await sleep(settleMs);
      pair.perMessage.push(((await cpuMicros(pair.server)) - before) / messages);
    }
    console.log(`round ${round} (load ${fmt(loads.at(-1), 2)}): ${pairs.map((p) => `${p.name} ${fmt(p.perMessage.at(-1), 0)} us`).join(', ')}`);
  }
} finally {
  for (const pair of pairs) {
    pair.sender.close();
    pair.receiver.close();
    await pair.server.dispose();
  }
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length % 2 ? sorted[(sorted.length - 1) / 2]! : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2;
};
const [parley, stock] = pairs;
const ratios = parley!.perMessage.map((p, i) => p / stock!.perMessage[i]!);
for (const pair of pairs) console.log(`${TARGET_LABEL[pair.name]}: median ${fmt(median(pair.perMessage), 0)} us of server CPU per message (rounds ${pair.perMessage.map((v) => fmt(v, 0)).join(', ')})`);
console.log(
  `Parley / stock Hocuspocus CPU per message: median ${fmtRatio(median(ratios))} (rounds ${fmtRatio(Math.min(...ratios))}-${fmtRatio(Math.max(...ratios))}); ${messages} messages per round, ${rounds} rounds, load ${fmt(Math.min(...loads), 1)}-${fmt(Math.max(...loads), 1)}`,
);
