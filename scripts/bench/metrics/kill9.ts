/**
 * Metric 8: loss under kill -9. Senders write at a steady rate; midway the
 * server gets SIGKILL. The senders are destroyed at once, so nothing they
 * still hold can be resent: what survives is what the server had stored.
 * After a restart a fresh client reads the conversation; every message that
 * was acknowledged before the kill and is missing counts as lost.
 */
import type { ChatClient } from '../lib/client';
import { sleep } from '../lib/client';
import { closeAll, connectMany, emptyResult, perTarget, users, type Metric, type MetricResult } from '../lib/metric';
import { TARGET_LABEL, withServer, type TargetName } from '../lib/server';
import { fmt } from '../lib/stats';
import { makeTarget } from '../lib/targets';

interface TargetResult {
  sent: number;
  acked: number;
  ackedLost: number;
  unackedSurvived: number;
  ratePerSec: number;
}

export const kill9: Metric = {
  id: 'kill9',
  title: '8. Loss under kill -9 during steady load',
  async run(context) {
    const result: MetricResult = emptyResult(this.id, this.title);
    const senderCount = 5;
    const perSenderRate = 40;
    const killAfterMs = context.quick ? 2000 : 5000;
    const byTarget = await perTarget(context, result, (name: TargetName) =>
      withServer(name, async (server) => {
        const target = makeTarget(server);
        const ids = users('k9-', senderCount);
        const conversation = await target.createConversation([...ids, 'k9-reader']);
        let senders: ChatClient[] = [];
        try {
          senders = await connectMany(senderCount, (i) => target.connect(ids[i]!, conversation, { awareness: true }));
          const acked = new Set<string>();
          const sent: string[] = [];
          let stop = false;
          const loops = senders.map(async (sender, s) => {
            for (let i = 0; !stop; i++) {
              const id = `k9-${s}-${i}`;
              sent.push(id);
              void sender.send(id, `steady message ${i} from sender ${s}`).then(() => {
                if (!stop) acked.add(id);
              });
              await sleep(1000 / perSenderRate);
            }
          });
          await sleep(killAfterMs);
          // Freeze the acknowledged set, then kill: an acknowledgement can only come from a live server.
          stop = true;
          const ackedBeforeKill = new Set(acked);
          await server.kill();
          closeAll(senders);
          senders = [];
          await Promise.all(loops);
          await server.restart();
          const reader = await target.connect('k9-reader', conversation, { timeoutMs: 60_000 });
          const present = new Set(reader.latest(reader.count()).map((m) => m.id));
          closeAll([reader]);
          const ackedLost = [...ackedBeforeKill].filter((id) => !present.has(id)).length;
          const unackedSurvived = sent.filter((id) => !ackedBeforeKill.has(id) && present.has(id)).length;
          context.log(`    ${name}: ${ackedBeforeKill.size} acknowledged, ${ackedLost} of them lost`);
          return { sent: sent.length, acked: ackedBeforeKill.size, ackedLost, unackedSurvived, ratePerSec: senderCount * perSenderRate };
        } finally {
          closeAll(senders);
        }
      }),
    );
    result.data = byTarget;
    result.tables.push({
      caption: `${senderCount} senders at ${perSenderRate} msg/s each; SIGKILL after ${killAfterMs / 1000} s; senders destroyed at once so nothing is resent.`,
      columns: ['target', 'sent', 'acknowledged before kill', 'acknowledged and lost', 'unacknowledged that survived'],
      rows: context.targets.flatMap((name) => {
        const r = byTarget[name];
        return r ? [[TARGET_LABEL[name], String(r.sent), String(r.acked), r.ackedLost === 0 ? '0' : `**${r.ackedLost}**`, String(r.unackedSurvived)]] : [];
      }),
    });
    const parley = byTarget.parley;
    result.checks.push({
      goal: 'zero acknowledged messages lost under kill -9',
      met: parley ? parley.ackedLost === 0 && parley.acked > 0 : null,
      detail: parley ? `Parley lost ${parley.ackedLost} of ${parley.acked} acknowledged; stock Hocuspocus lost ${fmt(byTarget.hocuspocus?.ackedLost, 0)} of ${fmt(byTarget.hocuspocus?.acked, 0)}` : 'not measured',
    });
    result.charts.push({
      name: 'kill9',
      chart: { title: 'Acknowledged messages lost under kill -9', yLabel: 'messages', categories: ['acknowledged', 'lost'], series: context.targets.map((name) => ({ name: TARGET_LABEL[name], values: [byTarget[name]?.acked, byTarget[name]?.ackedLost] })) },
    });
    return result;
  },
};
