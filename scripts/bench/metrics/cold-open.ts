/**
 * Metric 6: cold open. A conversation with H messages of history, the server
 * just restarted (nothing in memory); a new client opens it. Server CPU time
 * and heap growth for the open, and the time until the client can show the
 * newest 50 messages. Yjs clients must sync the whole document for that; the
 * relay asks for the last page; Parley is also measured through its REST
 * history page, which is how a new Parley client can show something first.
 * Parley's live document is bounded (issue 9): a new client syncs the window,
 * and its seeder reopens the document after each renewal (lib/targets.ts).
 * `BENCH_COLD_OPEN_SIZES=1000,100000` measures only those sizes.
 */
import { closeAll, emptyResult, perTarget, type Metric, type MetricResult } from '../lib/metric';
import { TARGET_LABEL, withServer, type BenchServer, type TargetName } from '../lib/server';
import { fmt, fmtBytes, fmtRatio, ratio } from '../lib/stats';
import { makeTarget } from '../lib/targets';

interface Case {
  history: number;
  /** Messages actually written: less than `history` when seeding hit its time limit. */
  written: number;
  seedMs: number;
  openMs: number;
  serverCpuMs: number;
  heapGrowth: number;
  peakHeapGrowth: number;
  bytes: number;
  restPageMs?: number;
  restStatus?: number;
}

/** A history that takes longer than this to write is reported as such, and larger sizes are skipped. */
const SEED_LIMIT_MS = 4 * 60_000;
/** A cold open (REST page or client sync) slower than this is reported as a failure at that size. */
const OPEN_LIMIT_MS = 3 * 60_000;

/** `BENCH_COLD_OPEN_SIZES=1000,100000`: measure these history sizes only (a partial re-run, with --merge). */
function sizesFromEnv(): number[] | null {
  const sizes = (process.env.BENCH_COLD_OPEN_SIZES ?? '').split(',').map(Number).filter((n) => Number.isInteger(n) && n > 0);
  return sizes.length > 0 ? sizes : null;
}

const cpuMs = (cpu: NodeJS.CpuUsage): number => (cpu.user + cpu.system) / 1000;
const heapOf = (m: NodeJS.MemoryUsage): number => m.heapUsed + m.external;

async function restPage(server: BenchServer, conversation: string, user: string): Promise<{ ms: number; status: number }> {
  const token = await server.token(user);
  const start = performance.now();
  const response = await fetch(`${server.httpUrl}/api/conversations/${conversation}/messages?limit=50`, {
    headers: { authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(OPEN_LIMIT_MS),
  });
  const body = (await response.json().catch(() => null)) as { messages?: unknown[] } | null;
  const ms = performance.now() - start;
  if (response.ok && (body?.messages?.length ?? 0) < 50) throw new Error(`REST history page held ${body?.messages?.length ?? 0} messages`);
  return { ms, status: response.status };
}

export const coldOpen: Metric = {
  id: 'cold-open',
  title: '6. Cold open of a long conversation',
  async run(context) {
    const result: MetricResult = emptyResult(this.id, this.title);
    const sizes = sizesFromEnv() ?? (context.quick ? [1000] : [1000, 10_000, 100_000, 1_000_000]);
    const byTarget = await perTarget(context, result, (name: TargetName) =>
      withServer(name, async (server) => {
        const target = makeTarget(server);
        const out: Case[] = [];
        for (const history of sizes) {
          try {
            const conversation = await target.createConversation(['co-writer', 'co-reader']);
            const seedStart = performance.now();
            const written = await target.seed(conversation, 'co-writer', history, { deadlineMs: SEED_LIMIT_MS });
            const seedMs = performance.now() - seedStart;
            if (written < history) result.notes.push(`${TARGET_LABEL[name]} wrote ${written.toLocaleString('en-US')} of ${history.toLocaleString('en-US')} messages in the ${SEED_LIMIT_MS / 60_000} minute seeding limit (${Math.round(written / (seedMs / 1000)).toLocaleString('en-US')} msg/s on average); that row opens what was written.`);
            let rest: { ms: number; status: number } | undefined;
            if (name === 'parley') {
              await server.restart();
              try {
                rest = await restPage(server, conversation, 'co-reader');
              } catch (error) {
                // A page that does not come within the limit is a finding; the client open is still measured.
                rest = { ms: Number.NaN, status: 0 };
                result.notes.push(`${TARGET_LABEL[name]} at ${written.toLocaleString('en-US')} messages: REST last page failed: ${error instanceof Error ? error.message : String(error)}`);
              }
            }
            await server.restart();
            const before = await server.stats({ gc: true, reset: true });
            const start = performance.now();
            const reader = await target.connect('co-reader', conversation, { last: 50, timeoutMs: OPEN_LIMIT_MS });
            const latest = reader.latest(50);
            const openMs = performance.now() - start;
            const bytes = reader.bytesIn();
            closeAll([reader]);
            if (latest.length < Math.min(50, written)) throw new Error(`new client shows ${latest.length} messages, expected 50`);
            const after = await server.stats();
            const kept = await server.stats({ gc: true });
            out.push({
              history,
              written,
              seedMs,
              openMs,
              serverCpuMs: cpuMs(after.cpu) - cpuMs(before.cpu),
              heapGrowth: heapOf(kept.memory) - heapOf(before.memory),
              peakHeapGrowth: after.peakHeap - heapOf(before.memory),
              bytes,
              ...(rest && { restPageMs: rest.ms, restStatus: rest.status }),
            });
            context.log(`    ${name} ${history} (${written} written): seeded in ${fmt(seedMs)} ms, open ${fmt(openMs)} ms, server CPU ${fmt(out[out.length - 1]!.serverCpuMs)} ms`);
          } catch (error) {
            result.errors.push(`${name} at ${history} messages: ${error instanceof Error ? error.message : String(error)}`.slice(0, 1000));
            context.log(`    ${name} ${history}: ${error instanceof Error ? error.message : String(error)}`);
            break;
          }
        }
        return out;
      }),
    );
    result.data = byTarget;
    const find = (name: TargetName, history: number): Case | undefined => byTarget[name]?.find((c) => c.history === history);
    const rows: string[][] = [];
    for (const history of sizes) {
      for (const name of context.targets) {
        const c = find(name, history);
        if (!c) continue;
        rows.push([
          c.written < history ? `${history.toLocaleString('en-US')} (${c.written.toLocaleString('en-US')} written)` : history.toLocaleString('en-US'),
          TARGET_LABEL[name],
          fmt(c.seedMs / 1000),
          fmt(c.openMs),
          fmt(c.serverCpuMs),
          fmtBytes(c.heapGrowth),
          fmtBytes(c.peakHeapGrowth),
          fmtBytes(c.bytes),
          c.restPageMs === undefined ? '' : c.restStatus === 200 ? fmt(c.restPageMs) : c.restStatus === 0 ? `none in ${OPEN_LIMIT_MS / 60_000} min` : `HTTP ${c.restStatus}`,
          name === 'parley' ? fmtRatio(ratio(c.openMs, find('hocuspocus', history)?.openMs)) : '',
          name === 'parley' ? fmtRatio(ratio(c.openMs, find('socketio', history)?.openMs)) : '',
        ]);
      }
    }
    result.tables.push({
      caption: 'Server restarted before each open. "latest 50 shown": new client connect -> its replica holds the newest 50 messages. Server CPU and heap are the server process\'s, for the open alone.',
      columns: ['history', 'target', 'seeding s', 'latest 50 shown ms', 'server CPU ms', 'heap kept', 'heap peak growth', 'bytes to client', 'REST last page ms (cold)', 'Parley / Hocuspocus', 'Parley / relay'],
      rows,
    });
    result.charts.push({
      name: 'cold-open',
      chart: {
        title: 'Cold open: time until a new client shows the latest 50',
        yLabel: 'ms',
        log: true,
        categories: sizes.map((s) => `${s.toLocaleString('en-US')} msgs`),
        series: context.targets.map((name) => ({ name: TARGET_LABEL[name], values: sizes.map((s) => find(name, s)?.openMs) })),
      },
    });
    result.notes.push('History is written in batches of 200 messages per update (per insert transaction for the relay).');
    return result;
  },
};
