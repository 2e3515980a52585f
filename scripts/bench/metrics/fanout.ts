/**
 * Metric 1: fan-out latency. One sender, N silent subscribers in one
 * conversation; messages one at a time; latency is send -> the last
 * subscriber has it (and, per delivery, send -> each subscriber). The targets
 * are interleaved round by round (issue 13, item 2), and every ratio comes
 * with its spread over the rounds and the load average of each round.
 */
import { sleep, withTimeout } from '../lib/client';
import { loadavg } from 'node:os';
import type { ChatClient } from '../lib/client';
import { closeAll, connectMany, cpuWindow, emptyResult, users, type Metric, type MetricResult } from '../lib/metric';
import { startServer, TARGET_LABEL, type BenchServer, type TargetName } from '../lib/server';
import { fmt, fmtRatio, ratio, summarize, type Summary } from '../lib/stats';
import { makeTarget, type Subscriber } from '../lib/targets';

interface SizeResult {
  subscribers: number;
  messages: number;
  all: Summary;
  each: Summary;
  ack: Summary;
  connectMs: number;
  generatorCpu: number;
  serverCpu: number;
  /** The "all" p50 of each round, in round order. */
  roundP50: number[];
}

/** One target's clients for one size, kept open across the rounds. */
interface Group {
  name: TargetName;
  server: BenchServer;
  sender: ChatClient;
  subscribers: Subscriber[];
  connectMs: number;
  samples: { each: number[]; all: number[]; acks: number[]; roundP50: number[]; generatorCpu: number[]; serverCpu: number[] };
}

/** Round r measures the targets in this order: rotated each round, so none always goes first (or follows the same one). */
const orderOf = <T>(items: readonly T[], round: number): T[] => items.map((_, i) => items[(i + round) % items.length]!);

/** Min-max of per-round ratios Parley / baseline (rounds paired by index). */
export function roundRatios(parley: readonly number[], baseline: readonly number[]): number[] {
  return parley.map((p, i) => ratio(p, baseline[i])).filter(Number.isFinite);
}

export const fanout: Metric = {
  id: 'fanout',
  title: '1. Fan-out latency',
  async run(context) {
    const result: MetricResult = emptyResult(this.id, this.title);
    const sizes = context.quick ? [2, 10] : [2, 10, 100, 1000];
    const rounds = context.quick ? 2 : 5;
    // Per round and target; the totals match the earlier one-pass run (200 messages, 100 at 1,000).
    const perRound = (size: number): number => (context.quick ? 15 : size >= 1000 ? 20 : 40);
    const warmup = context.quick ? 5 : 20;
    const loads: Array<{ size: number; round: number; load: number }> = [];

    // Every target's server runs through the whole metric, so the targets can take turns round by
    // round in one run (issue 13, item 2): a neighbour's burst of load then hits all of them alike.
    const servers: Partial<Record<TargetName, BenchServer>> = {};
    const byTarget: Partial<Record<TargetName, SizeResult[]>> = {};
    try {
      for (const name of context.targets) {
        try {
          servers[name] = await startServer(name);
        } catch (error) {
          result.errors.push(`${name}: ${error instanceof Error ? error.message : String(error)}`.slice(0, 2000));
        }
      }
      const names = context.targets.filter((name) => servers[name]);
      for (const size of sizes) {
        const groups: Group[] = [];
        try {
          for (const name of names) {
            const target = makeTarget(servers[name]!);
            const subscriberIds = users(`fo${size}-`, size);
            const conversation = await target.createConversation(['fo-sender', ...subscriberIds]);
            const connectStart = performance.now();
            const sender = await target.connect('fo-sender', conversation, { awareness: true });
            const subscribers = await connectMany(size, (i) => target.subscribe(subscriberIds[i]!, conversation, 120_000, /fo-\d+-\d+-\d+/g));
            groups.push({ name, server: servers[name]!, sender, subscribers, connectMs: performance.now() - connectStart, samples: { each: [], all: [], acks: [], roundP50: [], generatorCpu: [], serverCpu: [] } });
          }
          await sleep(200);
          for (const group of groups) await sendMessages(group, size, warmup, 0, false);
          for (let round = 1; round <= rounds; round++) {
            loads.push({ size, round, load: loadavg()[0]! });
            for (const group of orderOf(groups, round)) await sendMessages(group, size, perRound(size), round, true);
          }
          for (const group of groups) {
            const s = group.samples;
            const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
            (byTarget[group.name] ??= []).push({
              subscribers: size,
              messages: s.all.length,
              all: summarize(s.all),
              each: summarize(s.each),
              ack: summarize(s.acks),
              connectMs: group.connectMs,
              generatorCpu: mean(s.generatorCpu),
              serverCpu: mean(s.serverCpu),
              roundP50: s.roundP50,
            });
            context.log(`    ${group.name} ${size} subs: all p50 ${fmt(summarize(s.all).p50)} ms, p99 ${fmt(summarize(s.all).p99)} ms; per round ${s.roundP50.map((v) => fmt(v)).join(', ')}`);
          }
        } catch (error) {
          result.errors.push(`${size} subscribers: ${error instanceof Error ? error.message : String(error)}`.slice(0, 2000));
        } finally {
          for (const group of groups) closeAll([group.sender, ...group.subscribers]);
          await sleep(500);
        }
      }
    } finally {
      for (const server of Object.values(servers)) await server?.dispose();
    }
    result.data = byTarget;

    const columns = ['subscribers', 'target', 'all p50 ms', 'all p99 ms', 'all max ms', 'each p50 ms', 'each p99 ms', 'Parley / Hocuspocus (p50; per-round min-max)', 'Parley / relay (p50; per-round min-max)', 'gen CPU %', 'srv CPU %'];
    /** The pooled ratio, then the spread of the per-round ratios. */
    const ratioCell = (parley: SizeResult | undefined, baseline: SizeResult | undefined): string => {
      const each = roundRatios(parley?.roundP50 ?? [], baseline?.roundP50 ?? []);
      const pooled = fmtRatio(ratio(parley?.all.p50, baseline?.all.p50));
      return each.length ? `${pooled} (${fmtRatio(Math.min(...each))}-${fmtRatio(Math.max(...each))})` : pooled;
    };
    const rows: string[][] = [];
    for (const size of sizes) {
      const find = (name: TargetName): SizeResult | undefined => byTarget[name]?.find((r) => r.subscribers === size);
      const parley = find('parley');
      for (const name of context.targets) {
        const r = find(name);
        if (!r) continue;
        const isParley = name === 'parley';
        rows.push([
          String(size),
          TARGET_LABEL[name],
          fmt(r.all.p50),
          fmt(r.all.p99),
          fmt(r.all.max),
          fmt(r.each.p50),
          fmt(r.each.p99),
          isParley ? ratioCell(parley, find('hocuspocus')) : '',
          isParley ? ratioCell(parley, find('socketio')) : '',
          fmt(r.generatorCpu, 0),
          fmt(r.serverCpu, 0),
        ]);
      }
      const r = ratio(parley?.all.p50, find('hocuspocus')?.all.p50);
      const sizeLoads = loads.filter((l) => l.size === size).map((l) => l.load);
      result.checks.push({
        goal: `fan-out p50 <= 1.1x stock Hocuspocus at ${size} subscribers`,
        met: Number.isFinite(r) ? r <= 1.1 : null,
        detail: `${ratioCell(parley, find('hocuspocus'))} over ${rounds} interleaved rounds (Parley ${fmt(parley?.all.p50)} ms, Hocuspocus ${fmt(find('hocuspocus')?.all.p50)} ms; load ${fmt(Math.min(...sizeLoads), 1)}-${fmt(Math.max(...sizeLoads), 1)})`,
      });
    }
    result.tables.push({
      caption: `Send -> every subscriber has it ("all"), and send -> one subscriber ("each"). Messages one at a time, in ${rounds} rounds; each round every target takes its turn (order rotated), all servers up throughout. The ratio is of the pooled p50, then min-max of the rounds' own ratios.`,
      columns,
      rows,
    });
    result.tables.push({
      caption: 'Per round: 1-minute load average when it started, and each target\'s "all" p50 (ms).',
      columns: ['subscribers', 'round', 'load', ...context.targets.map((name) => TARGET_LABEL[name])],
      rows: loads.map((l) => [String(l.size), String(l.round), fmt(l.load, 2), ...context.targets.map((name) => fmt(byTarget[name]?.find((r) => r.subscribers === l.size)?.roundP50[l.round - 1]))]),
    });
    const series = context.targets.map((name) => ({ name: TARGET_LABEL[name], values: sizes.map((size) => byTarget[name]?.find((r) => r.subscribers === size)?.all.p50) }));
    result.charts.push({ name: 'fanout-p50', chart: { title: 'Fan-out p50: send -> all subscribers', yLabel: 'ms', categories: sizes.map((s) => `${s} subs`), series, log: true } });
    result.notes.push('Subscribers are silent and cheap: for Parley and stock Hocuspocus a wire-level Hocuspocus client (authenticates, syncs, answers pings, finds the message id in update frames without a Yjs document); for the relay socket.io-client. With full providers the generator spends ~80 us per subscriber applying each update, and at 100+ subscribers the figure measured the generator, not the server. The sender is a full provider with awareness.');
    return result;
  },
};

/** Sends `count` messages one at a time to every subscriber of the group; `record` keeps their latencies as round `round`. */
async function sendMessages(group: Group, size: number, count: number, round: number, record: boolean): Promise<void> {
  const { sender, subscribers, samples } = group;
  const all: number[] = [];
  let remaining = 0;
  let wake: () => void = () => {};
  let start = 0;
  let current = '';
  for (const subscriber of subscribers) {
    subscriber.onIds = (ids) => {
      if (!ids.includes(current)) return;
      const latency = performance.now() - start;
      if (record) samples.each.push(latency);
      if (--remaining === 0) {
        all.push(latency);
        wake();
      }
    };
  }
  const meter = record ? await cpuWindow(group.server) : null;
  for (let i = 0; i < count; i++) {
    const id = `fo-${size}-${round * 1000 + i}-${Date.now()}`;
    current = id;
    remaining = size;
    const delivered = new Promise<void>((done) => (wake = done));
    start = performance.now();
    const acked = sender.send(id, `fan-out message ${i} to ${size} subscribers`).then(() => performance.now() - start);
    const [ackMs] = await withTimeout(Promise.all([acked, delivered]), 30_000, `${group.name}: message ${i} of round ${round} reaching ${size} subscribers (${remaining} missing)`);
    if (record) samples.acks.push(ackMs);
    await sleep(size >= 100 ? 10 : 3);
  }
  if (!record) return;
  samples.all.push(...all);
  samples.roundP50.push(summarize(all).p50);
  const cpu = await meter!();
  samples.generatorCpu.push(cpu.generatorCpu);
  samples.serverCpu.push(cpu.serverCpu);
}
