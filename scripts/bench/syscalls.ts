/**
 * System calls per message, Parley against stock Hocuspocus, in one run
 * (issue 13): the A -> B driver of cpu-per-message.ts, with `strace -c -f`
 * attached to each server for the measured messages only (after the warm-up,
 * and after stock Hocuspocus' debounced store has settled, so its store is
 * counted too). strace slows a process many times over, so this counts calls,
 * it does not time them; what a call costs on this machine is in
 * commit-cost.ts and PLATFORM-NOTES. A count does not move with the
 * neighbours' load, so it names where CPU time goes that a JavaScript profile
 * shows only as "run (native)" and "writev (native)".
 *
 *   tsx scripts/bench/syscalls.ts [--messages=300] [--warmup=2000] [--settle=3000]
 *
 * Needs strace (apt-get install -y strace) and ptrace rights over the server (root here).
 */
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep } from './lib/client';
import { openLockstep, type Lockstep } from './lib/lockstep';
import { startServer, TARGET_LABEL, type TargetName } from './lib/server';
import { fmt } from './lib/stats';
import { makeTarget } from './lib/targets';
import { numberOption } from './lib/args';

process.env.BENCH_PROBE_SAMPLE_MS = '0';
const messages = numberOption('messages', 300);
const warmup = numberOption('warmup', 2000);
// Past stock Hocuspocus' 2 s debounce, so each side's store of the measured messages is inside the window.
const settleMs = numberOption('settle', 3000);
const TARGETS_MEASURED: TargetName[] = ['parley', 'hocuspocus'];

/** strace's `-c` table, as calls per syscall name. */
function parseSummary(text: string): Map<string, number> {
  const calls = new Map<string, number>();
  for (const line of text.split('\n')) {
    const columns = line.trim().split(/\s+/);
    // "% time  seconds  usecs/call  calls  [errors]  syscall"
    if (columns.length < 5 || !/^\d/.test(columns[0]!) || columns.at(-1) === 'total') continue;
    calls.set(columns.at(-1)!, Number(columns[3]));
  }
  return calls;
}

async function measure(name: TargetName): Promise<Map<string, number>> {
  const server = await startServer(name);
  const out = join(tmpdir(), `parley-syscalls-${name}-${process.pid}.txt`);
  let driver: Lockstep | undefined;
  try {
    const target = makeTarget(server);
    const conversation = await target.createConversation(['ca', 'cb']);
    driver = await openLockstep(target, conversation, { sender: 'ca', receiver: 'cb' }, /sc-\d+-\d+/g, 60_000);
    for (let i = 0; i < warmup; i++) await driver.send(`sc-0-${i}`, `warm-up ${i}`, 30_000);
    await sleep(settleMs);
    const strace = spawn('strace', ['-c', '-f', '-o', out, '-p', String(server.pid())], { stdio: 'ignore' });
    const exited = new Promise((resolve) => strace.once('exit', resolve));
    await sleep(1500); // attached to every thread before the first message
    for (let i = 0; i < messages; i++) await driver.send(`sc-1-${i}`, `syscalls ${i}`, 30_000);
    await sleep(settleMs);
    strace.kill('SIGINT');
    await exited;
    return parseSummary(readFileSync(out, 'utf8'));
  } finally {
    rmSync(out, { force: true });
    driver?.close();
    await server.dispose();
  }
}

const load = loadavg()[0]!;
const counts = new Map<TargetName, Map<string, number>>();
for (const name of TARGETS_MEASURED) counts.set(name, await measure(name));
// The calls that do the work; futex and epoll_pwait are waiting, not work, and strace's own attach adds to them.
const WAITING = new Set(['futex', 'epoll_pwait', 'epoll_wait']);
const names = [...new Set([...counts.values()].flatMap((table) => [...table.keys()]))].filter((call) => !WAITING.has(call));
const perMessage = (name: TargetName, call: string): number => (counts.get(name)!.get(call) ?? 0) / messages;
names.sort((a, b) => perMessage('parley', b) - perMessage('parley', a));
console.log(`system calls per message (${messages} messages A -> B after ${warmup}; load ${fmt(load, 2)}; waiting calls left out)`);
console.log(`${'call'.padEnd(16)}${TARGETS_MEASURED.map((name) => TARGET_LABEL[name].padStart(18)).join('')}`);
for (const call of names) {
  if (TARGETS_MEASURED.every((name) => perMessage(name, call) < 0.05)) continue;
  console.log(`${call.padEnd(16)}${TARGETS_MEASURED.map((name) => fmt(perMessage(name, call), 2).padStart(18)).join('')}`);
}
const total = (name: TargetName): number => names.reduce((sum, call) => sum + perMessage(name, call), 0);
console.log(`${'all of these'.padEnd(16)}${TARGETS_MEASURED.map((name) => fmt(total(name), 1).padStart(18)).join('')}`);
