/**
 * Benchmark runner: Parley against stock Hocuspocus and a Socket.IO relay, in
 * one run. `npm run bench` (full, minutes) or `npm run bench:quick` (small
 * sizes, under 2 minutes, the CI smoke test).
 *
 * Options: --quick, --only=fanout,throughput,... , --targets=parley,hocuspocus,socketio,
 * --report=<path> (default docs/PERFORMANCE.md for a full run, bench-results/PERFORMANCE.quick.md for quick),
 * --merge (with --only: re-measure those metrics and merge them into the latest run of the same mode;
 * each metric keeps the time and commit it was measured at, and all targets of a metric are always
 * measured together, so every ratio still comes from one run),
 * --report-only (rewrite the report from the latest results without measuring).
 *
 * This process is the load generator. It re-executes itself pinned to one core
 * (taskset) and starts each server pinned to the other, so the two never share
 * a core and the generator's own CPU use shows when the client side saturates.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem, type, release } from 'node:os';
import { join } from 'node:path';
import type { Metric, MetricResult } from './lib/metric';
import { writeReport, type RunInfo } from './lib/report';
import { CLIENT_CPU, repoRoot, SERVER_CPU, TARGETS, type TargetName } from './lib/server';
import { catchup } from './metrics/catchup';
import { coldOpen } from './metrics/cold-open';
import { durableAck } from './metrics/durable-ack';
import { fanout } from './metrics/fanout';
import { kill9 } from './metrics/kill9';
import { memory } from './metrics/memory';
import { notifications } from './metrics/notifications';
import { storm } from './metrics/storm';
import { throughput } from './metrics/throughput';
import { history } from './metrics/history';
import { textOption } from './lib/args';

const METRICS: readonly Metric[] = [fanout, throughput, durableAck, memory, catchup, coldOpen, storm, kill9, notifications, history];

const args = process.argv.slice(2);
const quick = args.includes('--quick');

function hasTaskset(): boolean {
  return spawnSync('taskset', ['-c', CLIENT_CPU, 'true']).status === 0;
}

if (!process.env.BENCH_PINNED) {
  // Re-run this file pinned to the generator core, with room for million-message replicas.
  const pinned = hasTaskset();
  const node = [process.execPath, '--expose-gc', '--max-old-space-size=8192', '--import', 'tsx', process.argv[1]!, ...args];
  const child = spawn(pinned ? 'taskset' : node[0]!, pinned ? ['-c', CLIENT_CPU, ...node] : node.slice(1), {
    stdio: 'inherit',
    env: { ...process.env, BENCH_PINNED: pinned ? 'yes' : 'no' },
  });
  const forward = (signal: NodeJS.Signals): void => void child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
} else {
  await main();
}

function version(name: string): string {
  try {
    return (JSON.parse(readFileSync(join(repoRoot, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'missing';
  }
}

function commit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot }).toString().trim();
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<void> {
  const only = textOption('only')?.split(',');
  const targets = (textOption('targets')?.split(',') ?? TARGETS).filter((t): t is TargetName => (TARGETS as readonly string[]).includes(t));
  const startedAt = new Date(Date.now());
  const loadAtStart = loadavg()[0]!;
  const log = (message: string): void => console.log(`[bench ${((Date.now() - startedAt.getTime()) / 1000).toFixed(0).padStart(4)} s] ${message}`);
  const command = `npm run ${quick ? 'bench:quick' : 'bench'}${args.filter((a) => a !== '--quick').map((a) => ` ${a}`).join('')}`;
  log(`${command}: targets ${targets.join(', ')}; server on CPU ${SERVER_CPU}, generator on CPU ${CLIENT_CPU} (pinned: ${process.env.BENCH_PINNED})`);

  if (args.includes('--report-only')) {
    const latest = JSON.parse(readFileSync(join(repoRoot, 'bench-results', `latest-${quick ? 'quick' : 'full'}.json`), 'utf8')) as { info: RunInfo; results: MetricResult[] };
    const reportPath = textOption('report') ?? (quick ? join(repoRoot, 'bench-results', 'PERFORMANCE.quick.md') : join(repoRoot, 'docs', 'PERFORMANCE.md'));
    writeReport(reportPath, latest.info, latest.results);
    log(`report rewritten: ${reportPath}`);
    process.exit(0);
  }

  const results: MetricResult[] = [];
  for (const metric of METRICS) {
    if (only && !only.includes(metric.id)) continue;
    log(metric.title);
    const started = performance.now();
    const ranAt = new Date().toISOString();
    try {
      results.push({ ...(await metric.run({ quick, targets, log })), ranAt, commit: commit() });
    } catch (error) {
      results.push({ id: metric.id, title: metric.title, tables: [], charts: [], notes: [], checks: [], errors: [String(error instanceof Error ? error.stack : error)], data: {}, ranAt, commit: commit() });
    }
    log(`${metric.title}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
    // Kept as it goes, so an interrupted run still leaves what it measured.
    mkdirSync(join(repoRoot, 'bench-results'), { recursive: true });
    writeFileSync(join(repoRoot, 'bench-results', `partial-${quick ? 'quick' : 'full'}.json`), JSON.stringify({ startedAt, results }, null, 2));
  }

  let baseCommand = command;
  let remeasured: string[] = [];
  let loadStart = loadAtStart;
  if (args.includes('--merge')) {
    // Earlier measurements of the metrics not re-run now, in the runner's order.
    const previous = JSON.parse(readFileSync(join(repoRoot, 'bench-results', `latest-${quick ? 'quick' : 'full'}.json`), 'utf8')) as { info: RunInfo; results: MetricResult[] };
    const fresh = new Map(results.map((r) => [r.id, r]));
    const old = new Map(previous.results.map((r) => [r.id, { ...r, ranAt: r.ranAt ?? previous.info.startedAt, commit: r.commit ?? previous.info.commit }]));
    results.splice(0, results.length, ...METRICS.flatMap((m) => fresh.get(m.id) ?? old.get(m.id) ?? []));
    startedAt.setTime(Math.min(startedAt.getTime(), Date.parse(previous.info.startedAt)));
    baseCommand = previous.info.command;
    remeasured = [...(previous.info.remeasured ?? []), command];
    loadStart = previous.info.loadAverage?.start ?? loadAtStart;
  }

  const cpuList = cpus();
  const info: RunInfo = {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    mode: quick ? 'quick' : 'full',
    command: baseCommand,
    ...(remeasured.length > 0 && { remeasured }),
    commit: commit(),
    machine: {
      cpus: cpuList[0]?.model ?? 'unknown',
      cores: cpuList.length,
      memoryGiB: Math.round(totalmem() / 1024 ** 3),
      os: `${type()} ${release()}`,
      node: process.version,
    },
    versions: Object.fromEntries(
      ['@hocuspocus/server', '@hocuspocus/provider', '@hocuspocus/extension-sqlite', 'yjs', 'socket.io', 'socket.io-client', 'better-sqlite3', 'ws', 'jose'].map((name) => [name, version(name)]),
    ),
    loadAverage: { start: loadStart, end: loadavg()[0]! },
    pinning: process.env.BENCH_PINNED === 'yes' ? `servers on CPU ${SERVER_CPU}, load generator on CPU ${CLIENT_CPU} (taskset)` : 'none (taskset unavailable)',
  };

  const outDir = join(repoRoot, 'bench-results');
  mkdirSync(outDir, { recursive: true });
  const stamp = info.startedAt.replace(/[:.]/g, '-');
  const json = JSON.stringify({ info, results }, null, 2);
  writeFileSync(join(outDir, `${info.mode}-${stamp}.json`), json);
  writeFileSync(join(outDir, `latest-${info.mode}.json`), json);
  const reportPath = textOption('report') ?? (quick ? join(outDir, 'PERFORMANCE.quick.md') : join(repoRoot, 'docs', 'PERFORMANCE.md'));
  writeReport(reportPath, info, results);

  const errors = results.flatMap((r) => r.errors.map((e) => `${r.id}: ${e}`));
  const missed = results.flatMap((r) => r.checks.filter((c) => c.met === false).map((c) => `${c.goal}: ${c.detail}`));
  log(`results: bench-results/${info.mode}-${stamp}.json; report: ${reportPath}`);
  for (const line of missed) log(`target missed: ${line}`);
  for (const line of errors) log(`ERROR ${line.split('\n')[0]}`);
  // A harness that cannot measure is broken; a missed target is a finding, reported, not a failure.
  process.exit(errors.length > 0 ? 1 : 0);
}
