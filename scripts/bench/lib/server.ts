/**
 * Starts a benchmarked server (Parley or a baseline) in its own process,
 * pinned to the server core, with the probe preloaded. Same launch contract
 * for all: env PORT, HOST, DATA_DIR, JWT_SECRET; a JSON log line with
 * "msg":"listening" and "port":N.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SignJWT } from 'jose';

export type TargetName = 'parley' | 'hocuspocus' | 'socketio';
export const TARGETS: readonly TargetName[] = ['parley', 'hocuspocus', 'socketio'];
export const TARGET_LABEL: Record<TargetName, string> = {
  parley: 'Parley',
  hocuspocus: 'stock Hocuspocus',
  socketio: 'Socket.IO relay',
};

export const repoRoot = resolve(import.meta.dirname, '../../..');
/**
 * BENCH_PARLEY_ENTRY=<file.mjs> runs Parley from another entry (a plain JavaScript build of
 * sync-server/src/main.ts, which tsx leaves alone): for measuring what running under tsx costs.
 */
const ENTRY: Record<TargetName, string> = {
  parley: process.env.BENCH_PARLEY_ENTRY || join(repoRoot, 'sync-server/src/main.ts'),
  hocuspocus: join(repoRoot, 'scripts/bench/baselines/hocuspocus.ts'),
  socketio: join(repoRoot, 'scripts/bench/baselines/socketio.ts'),
};
const PROBE = join(repoRoot, 'scripts/bench/lib/probe.ts');

/** Cores: the server gets one, the load generator (this process) the other. */
export const SERVER_CPU = process.env.BENCH_SERVER_CPU ?? '0';
export const CLIENT_CPU = process.env.BENCH_CLIENT_CPU ?? '1';

export interface ProbeStats {
  memory: NodeJS.MemoryUsage;
  cpu: NodeJS.CpuUsage;
  /** Main-thread event-loop active time since start, ms (performance.eventLoopUtilization). */
  busyMs: number;
  peakRss: number;
  peakHeap: number;
  eventLoop: { p50: number; p99: number; max: number; mean: number };
}

export interface BenchServer {
  name: TargetName;
  port: number;
  dataDir: string;
  secret: string;
  httpUrl: string;
  wsUrl: string;
  pid(): number;
  output(): string;
  /** Memory, CPU, event-loop delay; `gc` forces two full collections first, `reset` restarts peaks and delay. */
  stats(options?: { gc?: boolean; reset?: boolean }): Promise<ProbeStats>;
  token(userId: string, roles?: string[]): Promise<string>;
  /** Starts, or stops and writes to `file`, a CPU profile of the server (see probe.ts). */
  profile(action: 'start' | 'stop', file?: string): Promise<void>;
  stop(): Promise<void>;
  kill(): Promise<void>;
  /** Same port, same data. Resolves once listening again. */
  restart(): Promise<void>;
  /** Stops and deletes the data directory. */
  dispose(): Promise<void>;
}

interface Launched {
  child: ChildProcess;
  listening: Promise<number>;
  output: () => string;
}

/** BENCH_CPU_PROF=parley,hocuspocus writes V8 CPU profiles of those servers to bench-results/profiles/. */
const profiled = (name: TargetName): string[] =>
  (process.env.BENCH_CPU_PROF ?? '').split(',').includes(name) ? ['--cpu-prof', '--cpu-prof-interval=100', `--cpu-prof-dir=${join(repoRoot, 'bench-results/profiles', name)}`] : [];

/**
 * BENCH_SERVER_V8_FLAGS="--trace-opt --trace-deopt" passes V8 flags to every server this starts, and
 * BENCH_SERVER_OUT=<file> appends their output there (the launcher keeps only its tail): for naming
 * what V8 keeps compiling at steady state.
 */
const v8Flags = (): string[] => (process.env.BENCH_SERVER_V8_FLAGS ?? '').split(' ').filter(Boolean);

/** Servers still running; killed if the runner exits or is interrupted, so none outlives it. */
const live = new Set<ChildProcess>();
const killLive = (): void => live.forEach((child) => child.kill('SIGKILL'));
process.once('exit', killLive);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killLive();
    process.exit(130);
  });
}

/**
 * Per-server launch choices; defaults are those of the single-server
 * benchmarks. `wrap` goes between taskset and node (the instruction count runs
 * the server under `valgrind --tool=callgrind`, see instructions.ts); a
 * wrapped server starts slower, hence its own time limit.
 */
export interface LaunchOptions {
  /** Shared by the nodes of one cluster (tokens minted by one are accepted by all). */
  secret?: string;
  /** More environment (DATABASE_URL, REDIS_URL, ...). */
  env?: Record<string, string>;
  /** taskset CPU list; default SERVER_CPU. */
  cpu?: string;
  wrap?: readonly string[];
  listenTimeoutMs?: number;
  /** Another build's entry file (an A/B of two commits of the same server in one run); default the target's own. */
  entry?: string;
}

function launch(name: TargetName, port: number, dataDir: string, secret: string, options: LaunchOptions = {}): Launched {
  const listenTimeoutMs = options.listenTimeoutMs ?? 60_000;
  const args = [
    '-c',
    options.cpu ?? SERVER_CPU,
    ...(options.wrap ?? []),
    process.execPath,
    ...profiled(name),
    ...v8Flags(),
    '--expose-gc',
    '--max-old-space-size=8192',
    '--import',
    'tsx',
    '--import',
    PROBE,
    options.entry ?? ENTRY[name],
  ];
  const child = spawn('taskset', args, {
    cwd: repoRoot,
    env: {
      ...process.env,
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
      DATA_DIR: dataDir,
      JWT_SECRET: secret,
      LOG_LEVEL: 'info',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  live.add(child);
  child.once('exit', () => live.delete(child));
  let output = '';
  let found = false;
  const listening = new Promise<number>((resolvePort, reject) => {
    const onData = (chunk: Buffer): void => {
      if (process.env.BENCH_SERVER_OUT) appendFileSync(process.env.BENCH_SERVER_OUT, chunk);
      output += chunk.toString();
      if (output.length > 200_000) output = output.slice(-100_000);
      if (found) return;
      // Field order in the JSON line is the logger's business: find the line, then the port in it.
      const line = output.split('\n').find((text) => text.includes('"msg":"listening"'));
      const match = line ? /"port":(\d+)/.exec(line) : null;
      if (match) {
        found = true;
        resolvePort(Number(match[1]));
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code, signal) => reject(new Error(`${name} exited (${code ?? signal}) before listening:\n${output.slice(-4000)}`)));
  });
  const timeout = new Promise<number>((_, reject) =>
    setTimeout(() => reject(new Error(`${name} did not listen within ${listenTimeoutMs / 1000} s:\n${output.slice(-4000)}`)), listenTimeoutMs).unref(),
  );
  return { child, listening: Promise.race([listening, timeout]), output: () => output };
}

const exited = (child: ChildProcess): Promise<void> =>
  new Promise((done) => {
    if (child.exitCode !== null || child.signalCode !== null) return done();
    child.once('exit', () => done());
  });

export async function startServer(name: TargetName, options: LaunchOptions = {}): Promise<BenchServer> {
  const dataDir = mkdtempSync(join(tmpdir(), `parley-bench-${name}-`));
  const secret = options.secret ?? `bench-${Math.random().toString(36).slice(2)}-0123456789abcdef0123456789abcdef`;
  let run = launch(name, 0, dataDir, secret, options);
  let port = await run.listening;
  let previous = '';
  let nextId = 1;
  const key = new TextEncoder().encode(secret);
  const tokens = new Map<string, string>();

  const server: BenchServer = {
    name,
    get port() {
      return port;
    },
    dataDir,
    secret,
    get httpUrl() {
      return `http://127.0.0.1:${port}`;
    },
    get wsUrl() {
      return `ws://127.0.0.1:${port}/sync`;
    },
    pid: () => run.child.pid ?? -1,
    output: () => previous + run.output(),
    stats(options = {}) {
      const id = nextId++;
      const child = run.child;
      return new Promise<ProbeStats>((done, fail) => {
        const timer = setTimeout(() => {
          child.off('message', onMessage);
          fail(new Error(`${name}: no stats answer within 30 s`));
        }, 30_000);
        const onMessage = (message: unknown): void => {
          const answer = message as { type?: string; id?: number } & ProbeStats;
          if (answer?.type !== 'bench-stats' || answer.id !== id) return;
          clearTimeout(timer);
          child.off('message', onMessage);
          done(answer);
        };
        child.on('message', onMessage);
        child.send({ type: 'bench-stats', id, gc: options.gc, reset: options.reset });
      });
    },
    profile(action, file) {
      const id = nextId++;
      const child = run.child;
      return new Promise<void>((done, fail) => {
        const onMessage = (message: unknown): void => {
          const answer = message as { type?: string; id?: number; error?: string };
          if (answer?.type !== 'bench-profile' || answer.id !== id) return;
          child.off('message', onMessage);
          if (answer.error) fail(new Error(answer.error));
          else done();
        };
        child.on('message', onMessage);
        child.send({ type: 'bench-profile', id, action, file });
      });
    },
    async token(userId, roles) {
      const cacheKey = `${userId}|${roles?.join(',') ?? ''}`;
      const cached = tokens.get(cacheKey);
      if (cached) return cached;
      const now = Math.floor(Date.now() / 1000);
      const jwt = await new SignJWT(roles ? { roles } : {})
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(userId)
        .setIssuedAt(now)
        .setExpirationTime(now + 6 * 3600)
        .sign(key);
      tokens.set(cacheKey, jwt);
      return jwt;
    },
    async stop() {
      if (run.child.exitCode !== null || run.child.signalCode !== null) return;
      run.child.kill('SIGTERM');
      const forced = setTimeout(() => run.child.kill('SIGKILL'), 20_000);
      await exited(run.child);
      clearTimeout(forced);
    },
    async kill() {
      run.child.kill('SIGKILL');
      await exited(run.child);
    },
    async restart() {
      await server.stop();
      previous += run.output();
      run = launch(name, port, dataDir, secret, options);
      port = await run.listening;
    },
    async dispose() {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return server;
}

/** Starts a server, runs `body`, and always disposes it. */
export async function withServer<T>(name: TargetName, body: (server: BenchServer) => Promise<T>, options: LaunchOptions = {}): Promise<T> {
  const server = await startServer(name, options);
  try {
    return await body(server);
  } finally {
    await server.dispose();
  }
}
