/**
 * Server CPU instructions per message, Parley against stock Hocuspocus
 * (issue 13, item 2): the per-message cost as a count that does not move with
 * the neighbours' load, unlike wall-clock or CPU time on this shared machine.
 *
 *   tsx scripts/bench/instructions.ts [--messages=500] [--warmup=6000] [--rounds=3] [--settle=3000]
 *                                     [--targets=parley,hocuspocus] [--out=bench-results/instructions]
 *
 * Each server runs under `valgrind --tool=callgrind --instr-atstart=no`: it
 * starts, connects A (a provider with awareness, as in the fan-out metric) and
 * B (a wire-level subscriber), and takes `warmup` messages uninstrumented so
 * V8 has compiled the hot path. 6,000, because Parley's server has more code to
 * tier up than stock's: with `--trace-opt` it still completed 156 optimizations
 * in the 1,000 messages after a 1,250-message warm-up, 40, 20 and 16 in the next
 * thousands, 4-7 after 5,000 (docs/PERFORMANCE.md). After 1,250 the compiler was
 * 1.84 M of 4.20 M instructions per message; after 6,000, 0.21 M of 2.07 M. Then, per round, `callgrind_control -i on`,
 * `messages` messages A -> B one at a time (each waits for A's acknowledgement
 * and B's delivery: nothing is batched across messages, the latency case),
 * `settle` ms of quiet so the deferred work a message causes is counted too
 * (stock Hocuspocus' debounced store at 2 s, Parley's notifier and compaction),
 * then a dump; Ir (guest instructions executed, every thread of the server)
 * divided by the messages. Same client driver, same message text, same
 * process setup (tsx, probe) for both servers.
 *
 * Callgrind files are kept under `--out` for `callgrind_annotate`; the JSON
 * summary goes to `<out>/instructions.json`. Valgrind's Ir counts guest
 * instructions only (its own translation work is not in it), so the figure
 * is repeatable to ~1 % between rounds whatever the machine's load.
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { sleep } from './lib/client';
import { openLockstep } from './lib/lockstep';
import { repoRoot, TARGETS, TARGET_LABEL, withServer, type TargetName } from './lib/server';
import { fmtRatio } from './lib/stats';
import { makeTarget } from './lib/targets';
import { numberOption, textOption } from './lib/args';

// The probe's memory sampler off in the servers this starts (see probe.ts): its cost is not a message's.
process.env.BENCH_PROBE_SAMPLE_MS = '0';
const args = process.argv.slice(2);
const messages = numberOption('messages', 500);
const warmup = numberOption('warmup', 6000);
const rounds = numberOption('rounds', 3);
const settleMs = numberOption('settle', 3000);
/**
 * --from-start: instrument from the start and only zero and dump around the window, never
 * switching instrumentation. Slower to start, but Parley's server stopped answering once
 * instrumentation was switched on in the middle of its run (seen twice; stock Hocuspocus once).
 */
const fromStart = args.includes('--from-start');
const targets = (textOption('targets')?.split(',') ?? ['parley', 'hocuspocus']).filter((t): t is TargetName => (TARGETS as readonly string[]).includes(t) && t !== 'socketio');
const run = promisify(execFile);
const outDir = join(repoRoot, textOption('out') ?? 'bench-results/instructions');

interface TargetCount {
  target: TargetName;
  /** Instructions per message, one figure per round. */
  perMessage: number[];
  /** Last round's instructions per message by where they ran (see CATEGORIES). */
  breakdown: Record<string, number>;
}

/**
 * Where the instructions ran, by symbol of callgrind_annotate's function list: V8's
 * optimizing compiler (background threads; still busy long after start), GC, SQLite,
 * JIT-compiled JavaScript (no symbol), V8's builtins, and the rest. First match wins.
 */
const CATEGORIES: ReadonlyArray<[string, RegExp]> = [
  ['v8 compiler', /compiler::|maglev|Maglev|Turbofan|Compil/],
  ['gc', /Heap|Scaveng|Mark|Sweep|Evacuat|heap::|GC/],
  ['sqlite', /sqlite/i],
  ['jit code', /^\?\?\?:0x/],
  ['v8 builtins', /Builtins_/],
  ['libc', /libc|ld-linux/],
  ['v8 runtime', /v8::/],
];

function breakdownOf(file: string, messages: number): Record<string, number> {
  const listing = execFileSync('callgrind_annotate', ['--threshold=100', file], { maxBuffer: 256 * 1024 * 1024 }).toString();
  const out: Record<string, number> = {};
  for (const line of listing.split('\n')) {
    const match = /^\s*([\d,]+) \(\s*[\d.]+%\)\s+(.*)$/.exec(line);
    if (!match || match[2]!.includes('PROGRAM TOTALS')) continue;
    const name = CATEGORIES.find(([, pattern]) => pattern.test(match[2]!))?.[0] ?? 'other';
    out[name] = (out[name] ?? 0) + Number(match[1]!.replace(/,/g, '')) / messages;
  }
  return out;
}

/**
 * Runs one callgrind_control command against the server; it returns once valgrind has done it.
 * Valgrind names its control pipes after $USER and $HOST, and the server runs with HOST=127.0.0.1
 * (its listen address): without the same HOST here, callgrind_control finds stale pipes and says OK.
 */
const control = async (pid: number, ...flags: string[]): Promise<void> => {
  // Asynchronous: a generator blocked here for seconds misses the server's pings and gets disconnected.
  const said = (await run('callgrind_control', [...flags, String(pid)], { timeout: 120_000, env: { ...process.env, HOST: '127.0.0.1' } })).stdout;
  if (process.env.INSTR_DEBUG) console.log(said);
  if (!/OK/.test(said)) throw new Error(`callgrind_control ${flags.join(' ')} ${pid}: ${said}`);
};

/** The `totals:` line of a callgrind dump: Ir since instrumentation was switched on (or the last zeroing). */
function totalsOf(file: string): number {
  const line = readFileSync(file, 'utf8')
    .split('\n')
    .find((text) => text.startsWith('totals:'));
  if (!line) throw new Error(`${file}: no totals line`);
  return Number(line.split(/\s+/)[1]);
}

async function measure(name: TargetName): Promise<TargetCount> {
  const dir = join(outDir, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const wrap = ['valgrind', '--tool=callgrind', `--instr-atstart=${fromStart ? 'yes' : 'no'}`, `--callgrind-out-file=${join(dir, 'callgrind.out')}`];
  return withServer(
    name,
    async (server) => {
      const target = makeTarget(server);
      const conversation = await target.createConversation(['ia', 'ib']);
      const driver = await openLockstep(target, conversation, { sender: 'ia', receiver: 'ib' }, /in-\d+-\d+/g, 300_000);
      const send = (round: number, i: number): Promise<void> => driver.send(`in-${round}-${i}`, `instruction count message ${i}`, 600_000);
      try {
        for (let i = 0; i < warmup; i++) await send(0, i);
        await sleep(settleMs);
        const perMessage: number[] = [];
        let breakdown: Record<string, number> = {};
        for (let round = 1; round <= rounds; round++) {
          if (!fromStart) await control(server.pid(), '--instr=on');
          await control(server.pid(), '--zero'); // nothing before this line counts
          for (let i = 0; i < messages; i++) await send(round, i);
          await sleep(settleMs);
          await control(server.pid(), '--dump');
          if (!fromStart) await control(server.pid(), '--instr=off');
          if (process.env.INSTR_DEBUG) console.log(execFileSync('ls', ['-la', dir]).toString(), server.output().slice(-3000));
          const dumps = readdirSync(dir)
            .filter((file) => /^callgrind\.out\.\d+$/.test(file))
            .sort((a, b) => Number(a.split('.').pop()) - Number(b.split('.').pop()));
          const instructions = totalsOf(join(dir, dumps.at(-1)!));
          breakdown = breakdownOf(join(dir, dumps.at(-1)!), messages);
          perMessage.push(instructions / messages);
          console.log(`${name} round ${round}: ${instructions.toLocaleString('en-US')} Ir for ${messages} messages = ${Math.round(instructions / messages).toLocaleString('en-US')} per message`);
        }
        return { target: name, perMessage, breakdown };
      } finally {
        driver.close();
      }
    },
    { wrap, listenTimeoutMs: 600_000 },
  );
}

const load = { start: loadavg()[0]! };
console.log(`instructions: ${messages} messages A -> B per round, ${rounds} rounds, warm-up ${warmup}, settle ${settleMs} ms; load ${load.start.toFixed(2)}`);
const counts: TargetCount[] = [];
for (const name of targets) counts.push(await measure(name));
const loadEnd = loadavg()[0]!;

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length % 2 ? sorted[(sorted.length - 1) / 2]! : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2;
};
const byTarget = new Map(counts.map((c) => [c.target, c]));
const parley = byTarget.get('parley');
const stock = byTarget.get('hocuspocus');
const lines = ['| target | instructions per message (median of rounds) | rounds |', '| --- | --- | --- |'];
for (const c of counts) lines.push(`| ${TARGET_LABEL[c.target]} | ${Math.round(median(c.perMessage)).toLocaleString('en-US')} | ${c.perMessage.map((v) => Math.round(v).toLocaleString('en-US')).join(', ')} |`);
const categories = [...new Set(counts.flatMap((c) => Object.keys(c.breakdown)))].sort();
lines.push('', `| per message, last round | ${counts.map((c) => TARGET_LABEL[c.target]).join(' | ')} |`, `| --- |${counts.map(() => ' --- |').join('')}`);
for (const name of categories) lines.push(`| ${name} | ${counts.map((c) => Math.round(c.breakdown[name] ?? 0).toLocaleString('en-US')).join(' | ')} |`);
const ratio = parley && stock ? median(parley.perMessage) / median(stock.perMessage) : Number.NaN;
// Spread of the ratio over rounds: each Parley round against each stock round.
const ratios = parley && stock ? parley.perMessage.flatMap((p) => stock.perMessage.map((s) => p / s)) : [];
const spread = ratios.length ? `${fmtRatio(Math.min(...ratios))}-${fmtRatio(Math.max(...ratios))}` : 'n/a';
console.log(lines.join('\n'));
console.log(`Parley / stock Hocuspocus: ${fmtRatio(ratio)} (over rounds ${spread}; target <= 1.2x: ${ratio <= 1.2 ? 'met' : 'missed'}); load average ${load.start.toFixed(2)} -> ${loadEnd.toFixed(2)}`);
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'instructions.json'), JSON.stringify({ at: new Date().toISOString(), messages, warmup, rounds, settleMs, load: { ...load, end: loadEnd }, counts, ratio, ratios }, null, 2));
