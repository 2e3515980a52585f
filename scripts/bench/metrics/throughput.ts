/**
 * Metric 2: sustained throughput. Many small conversations (one sender and
 * three readers each) under an open-loop offered load that doubles step by
 * step until the server falls behind: acknowledged messages per second in,
 * deliveries per second out (the three readers receive each message).
 * Senders are spread so no single connection nears Parley's per-connection
 * rate limit. Readers are wire-level subscribers (see wiresubscriber.ts) so the
 * generator's core lasts longer than the server's; its CPU is reported anyway,
 * and server CPU per message gives a capacity estimate that does not depend on it.
 */
import type { ChatClient } from '../lib/client';
import { sleep } from '../lib/client';
import { closeAll, connectMany, cpuWindow, emptyResult, perTarget, type Metric, type MetricResult } from '../lib/metric';
import { TARGET_LABEL, withServer, type TargetName } from '../lib/server';
import { fmt, fmtRatio, ratio, summarize, type Summary } from '../lib/stats';
import { makeTarget, type Subscriber } from '../lib/targets';

interface Step {
  offered: number;
  /** Server CPU time per acknowledged message, ms. */
  serverMsPerMessage: number;
  sent: number;
  inPerSec: number;
  outPerSec: number;
  latency: Summary;
  generatorCpu: number;
  serverCpu: number;
  kept: boolean;
}

interface TargetResult {
  steps: Step[];
  peakIn: number;
  peakOut: number;
  /** The load generator's core was (nearly) full at the peak: the peak is a lower bound of the server's. */
  generatorBound: boolean;
  /** Messages per second one full server core would take at the cost measured at the peak step. */
  capacity: number;
}

/** The generator counts as saturated past this share of its core. */
const GENERATOR_SATURATED = 85;
const READERS = 3;

/** A sender stops offering once this many of its messages wait for acknowledgement (back-pressure). */
const WINDOW = 100;

export const throughput: Metric = {
  id: 'throughput',
  title: '2. Sustained throughput',
  async run(context) {
    const result: MetricResult = emptyResult(this.id, this.title);
    const conversations = context.quick ? 5 : 50;
    const rates = context.quick ? [200, 800] : [500, 1000, 2000, 4000, 8000, 16000];
    const stepMs = context.quick ? 2000 : 4000;

    const byTarget = await perTarget(context, result, (name: TargetName) =>
      withServer(name, async (server) => {
        const target = makeTarget(server);
        const senders: ChatClient[] = [];
        const readers: Subscriber[] = [];
        try {
          for (let c = 0; c < conversations; c++) {
            const readerIds = Array.from({ length: READERS }, (_, i) => `tp${c}-r${i}`);
            const conversation = await target.createConversation([`tp${c}-s`, ...readerIds]);
            senders.push(await target.connect(`tp${c}-s`, conversation, { awareness: true }));
            readers.push(...(await connectMany(READERS, (i) => target.subscribe(readerIds[i]!, conversation, 60_000, /tp-\d+-\d+/g), READERS)));
          }
          const sentAt = new Map<string, number>();
          let delivered = 0;
          let latencies: number[] = [];
          for (const reader of readers) {
            reader.onIds = (ids) => {
              const now = performance.now();
              for (const id of ids) {
                const start = sentAt.get(id);
                if (start === undefined) continue;
                delivered++;
                latencies.push(now - start);
              }
            };
          }
          const steps: Step[] = [];
          for (const rate of rates) {
            const inFlight = new Array<number>(senders.length).fill(0);
            let sent = 0;
            let acked = 0;
            let skipped = 0;
            delivered = 0;
            latencies = [];
            const meter = await cpuWindow(server);
            const start = performance.now();
            let due = 0;
            let turn = 0;
            // Open loop: every 5 ms, send what the schedule says is due, round-robin over senders.
            while (performance.now() - start < stepMs) {
              const elapsed = performance.now() - start;
              const target = Math.floor((elapsed / 1000) * rate);
              while (due < target) {
                due++;
                const s = turn++ % senders.length;
                if (inFlight[s]! >= WINDOW) {
                  skipped++;
                  continue;
                }
                const id = `tp-${rate}-${sent}`;
                sentAt.set(id, performance.now());
                inFlight[s]!++;
                sent++;
                void senders[s]!.send(id, `throughput message ${sent} at ${rate}/s`).then(() => {
                  inFlight[s]!--;
                  if (performance.now() - start <= stepMs) acked++;
                });
              }
              await sleep(5);
            }
            const window = (performance.now() - start) / 1000;
            const inPerSec = acked / window;
            const outPerSec = delivered / window;
            const cpu = await meter();
            const latency = summarize(latencies);
            // Let the backlog drain before the next step, bounded.
            const drainUntil = performance.now() + 10_000;
            while (inFlight.some((n) => n > 0) && performance.now() < drainUntil) await sleep(50);
            const kept = inPerSec >= 0.9 * rate && skipped === 0 && latency.p99 < 1000;
            const serverMsPerMessage = (cpu.serverCpu * 10) / Math.max(1, inPerSec);
            steps.push({ offered: rate, serverMsPerMessage, sent, inPerSec, outPerSec, latency, generatorCpu: cpu.generatorCpu, serverCpu: cpu.serverCpu, kept });
            context.log(`    ${name} offered ${rate}/s: in ${fmt(inPerSec)}/s, out ${fmt(outPerSec)}/s, p99 ${fmt(latency.p99)} ms, gen ${fmt(cpu.generatorCpu, 0)}%, srv ${fmt(cpu.serverCpu, 0)}%`);
            sentAt.clear();
            if (!kept) break;
            await sleep(300);
          }
          const peak = steps.reduce((best, step) => (step.inPerSec > best.inPerSec ? step : best));
          return {
            steps,
            peakIn: peak.inPerSec,
            peakOut: Math.max(...steps.map((s) => s.outPerSec)),
            generatorBound: peak.generatorCpu >= GENERATOR_SATURATED,
            capacity: 1000 / peak.serverMsPerMessage,
          };
        } finally {
          closeAll([...senders, ...readers]);
          await sleep(300);
        }
      }),
    );
    result.data = byTarget as Record<string, TargetResult | undefined>;

    const rows: string[][] = [];
    for (const name of context.targets) {
      for (const step of byTarget[name]?.steps ?? []) {
        rows.push([
          TARGET_LABEL[name],
          String(step.offered),
          fmt(step.inPerSec),
          fmt(step.outPerSec),
          fmt(step.latency.p50),
          fmt(step.latency.p99),
          fmt(step.latency.max),
          step.kept ? 'yes' : '**no**',
          fmt(step.generatorCpu, 0),
          fmt(step.serverCpu, 0),
          fmt(step.serverMsPerMessage, 3),
        ]);
      }
    }
    result.tables.push({
      caption: `${conversations} conversations of 4 members (1 sender, ${READERS} readers), ${conversations} senders; each step ${stepMs / 1000} s at a fixed offered rate. "kept up": at least 90% of the offered rate acknowledged, no back-pressure, delivery p99 under 1 s. Server CPU ms per message = server CPU time / acknowledged messages.`,
      columns: ['target', 'offered msg/s', 'acked msg/s in', 'deliveries/s out', 'delivery p50 ms', 'delivery p99 ms', 'delivery max ms', 'kept up', 'gen CPU %', 'srv CPU %', 'srv CPU ms / msg'],
      rows,
    });
    const peak = (name: TargetName): number | undefined => byTarget[name]?.peakIn;
    const capacity = (name: TargetName): number | undefined => byTarget[name]?.capacity;
    result.tables.push({
      caption: 'Peak acknowledged rate over the steps, and the capacity one full server core would give at the CPU cost per message measured at that peak. A generator-bound peak is a lower bound of what the server could take; compare capacities then.',
      columns: ['target', 'peak msg/s in', 'peak deliveries/s out', 'generator-bound', 'capacity msg/s (1 core)', 'Parley / target (peak)', 'Parley / target (capacity)'],
      rows: context.targets.map((name) => [
        TARGET_LABEL[name],
        fmt(peak(name)),
        fmt(byTarget[name]?.peakOut),
        byTarget[name]?.generatorBound ? 'yes' : 'no',
        fmt(capacity(name)),
        name === 'parley' ? '' : fmtRatio(ratio(peak('parley'), peak(name))),
        name === 'parley' ? '' : fmtRatio(ratio(capacity('parley'), capacity(name))),
      ]),
    });
    // A generator-bound peak understates the server: then the capacity ratio is the honest comparison.
    const bound = byTarget.parley?.generatorBound || byTarget.hocuspocus?.generatorBound;
    const r = bound ? ratio(capacity('parley'), capacity('hocuspocus')) : ratio(peak('parley'), peak('hocuspocus'));
    const ceiling = rates[rates.length - 1]!;
    result.checks.push({
      goal: 'throughput >= 0.8x stock Hocuspocus',
      met: Number.isFinite(r) ? r >= 0.8 : null,
      detail: `${fmtRatio(r)} by ${bound ? 'server CPU capacity (a peak was generator-bound)' : 'peak acknowledged rate'} (peaks: Parley ${fmt(peak('parley'))} msg/s, Hocuspocus ${fmt(peak('hocuspocus'))} msg/s; capacities ${fmt(capacity('parley'))} and ${fmt(capacity('hocuspocus'))} msg/s${context.quick ? `; quick run stops at ${ceiling} msg/s offered, below saturation` : ''})`,
    });
    result.charts.push({
      name: 'throughput-peak',
      chart: { title: 'Peak acknowledged messages per second', yLabel: 'msg/s', categories: ['peak in', 'peak deliveries out'], series: context.targets.map((name) => ({ name: TARGET_LABEL[name], values: [peak(name), byTarget[name]?.peakOut] })) },
    });
    return result;
  },
};
