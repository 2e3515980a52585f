/**
 * The shape every metric file exports, and the helpers they share: CPU
 * metering of both processes, bounded batch connection, result tables.
 */
import type { BenchServer, TargetName } from './server';
import type { BarChart } from './svg';

export interface MetricContext {
  quick: boolean;
  targets: readonly TargetName[];
  log(message: string): void;
}

export interface Table {
  caption: string;
  columns: string[];
  rows: string[][];
}

/** A goal from the issue, checked against this run. `met: null` when it could not be measured. */
export interface Check {
  goal: string;
  met: boolean | null;
  detail: string;
}

export interface MetricResult {
  id: string;
  title: string;
  tables: Table[];
  charts: Array<{ name: string; chart: BarChart }>;
  notes: string[];
  checks: Check[];
  errors: string[];
  data: Record<string, unknown>;
  /** When and at which commit it was measured (set by the runner). */
  ranAt?: string;
  commit?: string;
}

export interface Metric {
  id: string;
  title: string;
  run(context: MetricContext): Promise<MetricResult>;
}

export function emptyResult(id: string, title: string): MetricResult {
  return { id, title, tables: [], charts: [], notes: [], checks: [], errors: [], data: {} };
}

interface Closable {
  close(): void;
}

export interface CpuWindow {
  wallMs: number;
  /** Load generator (this process) CPU, percent of one core. */
  generatorCpu: number;
  /** Server CPU, percent of one core. */
  serverCpu: number;
}

/** Starts metering both processes' CPU; the returned function ends the window. */
export async function cpuWindow(server: BenchServer): Promise<() => Promise<CpuWindow>> {
  const start = performance.now();
  const generator = process.cpuUsage();
  const serverStart = (await server.stats()).cpu;
  return async () => {
    const wallMs = performance.now() - start;
    const used = process.cpuUsage(generator);
    const serverEnd = (await server.stats()).cpu;
    const serverUsed = serverEnd.user - serverStart.user + serverEnd.system - serverStart.system;
    const pct = (micros: number): number => (wallMs > 0 ? (micros / 1000 / wallMs) * 100 : Number.NaN);
    return { wallMs, generatorCpu: pct(used.user + used.system), serverCpu: pct(serverUsed) };
  };
}

/** Connects many clients, a few at a time, so connection set-up is not itself a storm. */
export async function connectMany<T extends Closable>(count: number, connect: (index: number) => Promise<T>, concurrency = 25): Promise<T[]> {
  const clients: T[] = new Array(count);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const index = next++;
      clients[index] = await connect(index);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  } catch (error) {
    closeAll(clients.filter(Boolean));
    throw error;
  }
  return clients;
}

export function closeAll(clients: ReadonlyArray<Closable | undefined>): void {
  for (const client of clients) {
    try {
      client?.close();
    } catch {
      // already closed
    }
  }
}

/** Runs `body` for each target, recording a failure as an error row instead of aborting the whole run. */
export async function perTarget<T>(context: MetricContext, result: MetricResult, body: (target: TargetName) => Promise<T>): Promise<Partial<Record<TargetName, T>>> {
  const out: Partial<Record<TargetName, T>> = {};
  for (const target of context.targets) {
    const started = performance.now();
    try {
      context.log(`  ${result.id} / ${target}`);
      out[target] = await body(target);
      context.log(`  ${result.id} / ${target} done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    } catch (error) {
      const message = `${target}: ${error instanceof Error ? error.message : String(error)}`.slice(0, 2000);
      context.log(`  ${result.id} / ${message}`);
      result.errors.push(message);
    }
  }
  return out;
}

export const users = (prefix: string, count: number): string[] => Array.from({ length: count }, (_, i) => `${prefix}${i}`);
