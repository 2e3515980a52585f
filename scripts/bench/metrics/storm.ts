/**
 * Metric 7: reconnect storm. Many clients in conversations of 10 with 100
 * messages of history each; the server restarts (SIGTERM, start again on the
 * same port and data) and, once it listens, every client reconnects at the
 * same moment with the replica it kept. Measured from that moment: time until
 * every client is synced again, the server's peak memory and event-loop delay
 * meanwhile.
 */
import type { ChatClient } from '../lib/client';
import { sleep } from '../lib/client';
import { closeAll, connectMany, cpuWindow, emptyResult, perTarget, type Metric, type MetricResult } from '../lib/metric';
import { TARGET_LABEL, withServer, type TargetName } from '../lib/server';
import { fmt, fmtBytes, fmtRatio, ratio } from '../lib/stats';
import { makeTarget } from '../lib/targets';

interface TargetResult {
  clients: number;
  allSyncedMs: number;
  synced: number;
  peakRss: number;
  peakHeap: number;
  eventLoopP99: number;
  eventLoopMax: number;
  generatorCpu: number;
  serverCpu: number;
}

const MEMBERS = 10;

export const storm: Metric = {
  id: 'storm',
  title: '7. Reconnect storm after a server restart',
  async run(context) {
    const result: MetricResult = emptyResult(this.id, this.title);
    const count = context.quick ? 100 : 1000;
    const deadlineMs = context.quick ? 30_000 : 120_000;
    const byTarget = await perTarget(context, result, (name: TargetName) =>
      withServer(name, async (server) => {
        const target = makeTarget(server);
        const clients: ChatClient[] = [];
        try {
          for (let c = 0; c < count / MEMBERS; c++) {
            const members = Array.from({ length: MEMBERS }, (_, i) => `st${c}-${i}`);
            const conversation = await target.createConversation(members);
            await target.seed(conversation, members[0]!, 100);
            clients.push(...(await connectMany(MEMBERS, (i) => target.connect(members[i]!, conversation, { awareness: true, timeoutMs: 60_000 }), MEMBERS)));
          }
          await sleep(500);
          // Clients stop retrying while the server is down, so no back-off schedule decides the result:
          // once the new process listens, every client reconnects in the same instant.
          await server.stop();
          await Promise.all(clients.map((c) => c.goOffline()));
          await server.restart();
          // Peaks and event-loop delay from here on, not from module loading.
          await server.stats({ reset: true });
          const meter = await cpuWindow(server);
          const start = performance.now();
          const outcomes = await Promise.allSettled(clients.map((c) => c.goOnline(deadlineMs)));
          const cpu = await meter();
          const failed = outcomes.filter((o) => o.status === 'rejected').length;
          const allSyncedMs = Math.max(...clients.map((c) => c.syncedAt() - start));
          const stats = await server.stats();
          if (failed > 0) throw new Error(`${failed} of ${clients.length} clients not synced ${deadlineMs / 1000} s after the restart`);
          const synced = clients.length;
          return { clients: clients.length, allSyncedMs, synced, peakRss: stats.peakRss, peakHeap: stats.peakHeap, eventLoopP99: stats.eventLoop.p99, eventLoopMax: stats.eventLoop.max, generatorCpu: cpu.generatorCpu, serverCpu: cpu.serverCpu };
        } finally {
          closeAll(clients);
          await sleep(300);
        }
      }),
    );
    result.data = byTarget;
    const parley = byTarget.parley;
    result.tables.push({
      caption: `${count} clients in conversations of ${MEMBERS} members, 100 messages of history each, all reconnecting in the same instant once the restarted server listens (SIGTERM, clients offline, start, then every client reconnects with its replica). Event-loop delay is sampled every 5 ms (monitorEventLoopDelay); the sampling interval is included.`,
      columns: ['target', 'clients', 'all synced ms', 'peak RSS', 'peak heap', 'event-loop delay p99 ms', 'event-loop delay max ms', 'gen CPU %', 'srv CPU %', 'Parley / target (time)'],
      rows: context.targets.flatMap((name) => {
        const r = byTarget[name];
        if (!r) return [];
        return [[TARGET_LABEL[name], String(r.clients), fmt(r.allSyncedMs), fmtBytes(r.peakRss), fmtBytes(r.peakHeap), fmt(r.eventLoopP99), fmt(r.eventLoopMax), fmt(r.generatorCpu, 0), fmt(r.serverCpu, 0), name === 'parley' ? '' : fmtRatio(ratio(parley?.allSyncedMs, r.allSyncedMs))]];
      }),
    });
    result.charts.push({
      name: 'storm',
      chart: { title: `Reconnect storm: ${count} clients, time until all synced`, yLabel: 'ms', categories: ['all synced'], series: context.targets.map((name) => ({ name: TARGET_LABEL[name], values: [byTarget[name]?.allSyncedMs] })) },
    });
    return result;
  },
};
