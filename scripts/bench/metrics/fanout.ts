/**
 * Metric 1: fan-out latency. One sender, N silent subscribers in one
 * conversation; messages one at a time; latency is send -> the last
 * subscriber has it (and, per delivery, send -> each subscriber).
 */
import { sleep, withTimeout } from '../lib/client';
import { closeAll, connectMany, cpuWindow, emptyResult, perTarget, users, type Metric, type MetricResult } from '../lib/metric';
import { TARGET_LABEL, withServer, type TargetName } from '../lib/server';
import { fmt, fmtRatio, ratio, summarize, type Summary } from '../lib/stats';
import { makeTarget } from '../lib/targets';

interface SizeResult {
  subscribers: number;
  messages: number;
  all: Summary;
  each: Summary;
  ack: Summary;
  connectMs: number;
  generatorCpu: number;
  serverCpu: number;
}

export const fanout: Metric = {
  id: 'fanout',
  title: '1. Fan-out latency',
  async run(context) {
    const result: MetricResult = emptyResult(this.id, this.title);
    const sizes = context.quick ? [2, 10] : [2, 10, 100, 1000];
    const perSize = (size: number): number => (context.quick ? 30 : size >= 1000 ? 100 : 200);
    const warmup = context.quick ? 5 : 20;

    const byTarget = await perTarget(context, result, (name: TargetName) =>
      withServer(name, async (server) => {
        const target = makeTarget(server);
        const rows: SizeResult[] = [];
        for (const size of sizes) {
          const subscriberIds = users(`fo${size}-`, size);
          const conversation = await target.createConversation(['fo-sender', ...subscriberIds]);
          const connectStart = performance.now();
          const sender = await target.connect('fo-sender', conversation, { awareness: true });
          const subscribers = await connectMany(size, (i) => target.subscribe(subscriberIds[i]!, conversation, 120_000, /fo-\d+-\d+-\d+/g));
          const connectMs = performance.now() - connectStart;
          try {
            const each: number[] = [];
            const all: number[] = [];
            const acks: number[] = [];
            let remaining = 0;
            let wake: () => void = () => {};
            let start = 0;
            let current = '';
            for (const subscriber of subscribers) {
              subscriber.onIds = (ids) => {
                if (!ids.includes(current)) return;
                const latency = performance.now() - start;
                each.push(latency);
                if (--remaining === 0) {
                  all.push(latency);
                  wake();
                }
              };
            }
            await sleep(200);
            const meter = await cpuWindow(server);
            const total = warmup + perSize(size);
            for (let i = 0; i < total; i++) {
              const id = `fo-${size}-${i}-${Date.now()}`;
              current = id;
              remaining = size;
              const delivered = new Promise<void>((done) => (wake = done));
              start = performance.now();
              const acked = sender.send(id, `fan-out message ${i} to ${size} subscribers`).then(() => performance.now() - start);
              const [ackMs] = await withTimeout(Promise.all([acked, delivered]), 30_000, `message ${i} reaching ${size} subscribers (${remaining} missing)`);
              if (i === warmup - 1) {
                each.length = 0;
                all.length = 0;
              } else if (i >= warmup) acks.push(ackMs);
              await sleep(size >= 100 ? 10 : 3);
            }
            const cpu = await meter();
            rows.push({ subscribers: size, messages: all.length, all: summarize(all), each: summarize(each), ack: summarize(acks), connectMs, generatorCpu: cpu.generatorCpu, serverCpu: cpu.serverCpu });
            context.log(`    ${name} ${size} subs: all p50 ${fmt(summarize(all).p50)} ms, p99 ${fmt(summarize(all).p99)} ms`);
          } finally {
            closeAll([sender, ...subscribers]);
            await sleep(500);
          }
        }
        return rows;
      }),
    );
    result.data = byTarget;

    const columns = ['subscribers', 'target', 'all p50 ms', 'all p99 ms', 'all max ms', 'each p50 ms', 'each p99 ms', 'Parley / Hocuspocus (p50)', 'Parley / relay (p50)', 'gen CPU %', 'srv CPU %'];
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
          isParley ? fmtRatio(ratio(parley?.all.p50, find('hocuspocus')?.all.p50)) : '',
          isParley ? fmtRatio(ratio(parley?.all.p50, find('socketio')?.all.p50)) : '',
          fmt(r.generatorCpu, 0),
          fmt(r.serverCpu, 0),
        ]);
      }
      const r = ratio(parley?.all.p50, find('hocuspocus')?.all.p50);
      result.checks.push({
        goal: `fan-out p50 <= 1.2x stock Hocuspocus at ${size} subscribers`,
        met: Number.isFinite(r) ? r <= 1.2 : null,
        detail: `${fmtRatio(r)} (Parley ${fmt(parley?.all.p50)} ms, Hocuspocus ${fmt(find('hocuspocus')?.all.p50)} ms)`,
      });
    }
    result.tables.push({ caption: 'Send -> every subscriber has it ("all"), and send -> one subscriber ("each"). Messages one at a time.', columns, rows });
    const series = context.targets.map((name) => ({ name: TARGET_LABEL[name], values: sizes.map((size) => byTarget[name]?.find((r) => r.subscribers === size)?.all.p50) }));
    result.charts.push({ name: 'fanout-p50', chart: { title: 'Fan-out p50: send -> all subscribers', yLabel: 'ms', categories: sizes.map((s) => `${s} subs`), series, log: true } });
    result.notes.push('Subscribers are silent and cheap: for Parley and stock Hocuspocus a wire-level Hocuspocus client (authenticates, syncs, answers pings, finds the message id in update frames without a Yjs document); for the relay socket.io-client. With full providers the generator spends ~80 us per subscriber applying each update, and at 100+ subscribers the figure measured the generator, not the server. The sender is a full provider with awareness.');
    return result;
  },
};
