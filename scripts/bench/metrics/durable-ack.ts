/**
 * Metric 3: time to durable acknowledgement. Messages one at a time.
 * Parley acknowledges after its SQLite append and the relay after its insert,
 * so their acknowledgement is the durable point. Stock Hocuspocus
 * acknowledges before storing (debounced whole-document store), so for it the
 * time until the message is in its SQLite file is read from the file itself.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { conversationParts } from '@parley/schema';
import * as Y from 'yjs';
import { sleep, withTimeout } from '../lib/client';
import { closeAll, cpuWindow, emptyResult, perTarget, type Metric, type MetricResult } from '../lib/metric';
import { TARGET_LABEL, withServer, type BenchServer, type TargetName } from '../lib/server';
import { fmt, fmtRatio, ratio, summarize, type Summary } from '../lib/stats';
import { makeTarget } from '../lib/targets';

interface TargetResult {
  ack: Summary;
  durable: Summary;
  durableIsAck: boolean;
  generatorCpu: number;
  serverCpu: number;
}

/** Polls stock Hocuspocus' SQLite file and reports when each message id first appears in it. */
async function hocuspocusDurability(server: BenchServer, documentName: string, sentAt: Map<string, number>, timeoutMs: number): Promise<number[]> {
  const seenAt = new Map<string, number>();
  const db = new Database(join(server.dataDir, 'hocuspocus.sqlite'), { readonly: true, fileMustExist: false });
  db.pragma('busy_timeout = 1000');
  const until = performance.now() + timeoutMs;
  try {
    while (seenAt.size < sentAt.size && performance.now() < until) {
      let row: { data: Buffer } | undefined;
      try {
        row = db.prepare('SELECT data FROM documents WHERE name = ?').get(documentName) as { data: Buffer } | undefined;
      } catch {
        row = undefined; // table not created yet, or busy
      }
      const now = performance.now();
      if (row) {
        const doc = new Y.Doc();
        Y.applyUpdate(doc, row.data);
        for (const map of conversationParts(doc).messages) {
          const id = String(map.get('id'));
          if (sentAt.has(id) && !seenAt.has(id)) seenAt.set(id, now);
        }
        doc.destroy();
      }
      await sleep(10);
    }
  } finally {
    db.close();
  }
  return [...sentAt].map(([id, start]) => (seenAt.get(id) ?? Number.POSITIVE_INFINITY) - start);
}

export const durableAck: Metric = {
  id: 'durable-ack',
  title: '3. Time to durable acknowledgement',
  async run(context) {
    const result: MetricResult = emptyResult(this.id, this.title);
    const count = context.quick ? 100 : 500;
    const byTarget = await perTarget(context, result, (name: TargetName) =>
      withServer(name, async (server) => {
        const target = makeTarget(server);
        const conversation = await target.createConversation(['da-writer', 'da-reader']);
        const writer = await target.connect('da-writer', conversation, { awareness: true });
        const reader = await target.connect('da-reader', conversation);
        try {
          const acks: number[] = [];
          const sentAt = new Map<string, number>();
          const meter = await cpuWindow(server);
          for (let i = 0; i < count; i++) {
            const id = `da-${i}`;
            const start = performance.now();
            sentAt.set(id, start);
            await withTimeout(writer.send(id, `durable message ${i}`), 10_000, `ack of message ${i}`);
            acks.push(performance.now() - start);
            await sleep(5);
          }
          const cpu = await meter();
          let durable = acks;
          if (name === 'hocuspocus') durable = await hocuspocusDurability(server, `conversation:${conversation}`, sentAt, 20_000);
          return { ack: summarize(acks), durable: summarize(durable), durableIsAck: name !== 'hocuspocus', generatorCpu: cpu.generatorCpu, serverCpu: cpu.serverCpu };
        } finally {
          closeAll([writer, reader]);
        }
      }),
    );
    result.data = byTarget;
    const parley = byTarget.parley;
    result.tables.push({
      caption: `${count} messages, one at a time (next sent 5 ms after the previous acknowledgement), one reader connected.`,
      columns: ['target', 'ack p50 ms', 'ack p99 ms', 'ack max ms', 'durable p50 ms', 'durable p99 ms', 'durable max ms', 'durable means', 'Parley / target (durable p99)', 'gen CPU %', 'srv CPU %'],
      rows: context.targets.flatMap((name) => {
        const r = byTarget[name];
        if (!r) return [];
        return [[
          TARGET_LABEL[name],
          fmt(r.ack.p50),
          fmt(r.ack.p99),
          fmt(r.ack.max),
          fmt(r.durable.p50),
          fmt(r.durable.p99),
          fmt(r.durable.max),
          r.durableIsAck ? 'acknowledged' : 'found in its SQLite file',
          name === 'parley' ? '' : fmtRatio(ratio(parley?.durable.p99, r.durable.p99)),
          fmt(r.generatorCpu, 0),
          fmt(r.serverCpu, 0),
        ]];
      }),
    });
    result.checks.push({
      goal: 'Parley durable acknowledgement p99 < 10 ms',
      met: parley ? parley.durable.p99 < 10 : null,
      detail: parley ? `p50 ${fmt(parley.durable.p50)} ms, p99 ${fmt(parley.durable.p99)} ms, max ${fmt(parley.durable.max)} ms` : 'not measured',
    });
    result.charts.push({
      name: 'durable-ack',
      chart: {
        title: 'Send -> durable (p50 and p99)',
        yLabel: 'ms',
        log: true,
        categories: ['p50', 'p99'],
        series: context.targets.map((name) => ({ name: TARGET_LABEL[name], values: [byTarget[name]?.durable.p50, byTarget[name]?.durable.p99] })),
      },
    });
    result.notes.push('The relay runs SQLite in WAL mode with synchronous=NORMAL: durable against a process crash (kill -9), not against power loss; the same promise Parley makes.');
    return result;
  },
};
