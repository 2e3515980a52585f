/**
 * Metric 4: server memory per idle connection and per open conversation.
 * Heap (V8 heap used + external, after two forced collections in the server)
 * and RSS, before and after; the difference divided by the count.
 * An idle connection is what an idle Parley client holds: one socket with its
 * own inbox document open. An open conversation is one with 20 messages of
 * history, opened by a client holding 400 per socket.
 */
import { sleep } from '../lib/client';
import { closeAll, connectMany, emptyResult, perTarget, users, type Metric, type MetricResult } from '../lib/metric';
import { TARGET_LABEL, withServer, type BenchServer, type ProbeStats, type TargetName } from '../lib/server';
import { fmtBytes, fmtRatio, ratio } from '../lib/stats';
import { makeTarget, type Target } from '../lib/targets';

interface Delta {
  count: number;
  heapPer: number;
  rssPer: number;
}

interface TargetResult {
  idle: Delta[];
  conversation: Delta;
}

const heapOf = (stats: ProbeStats): number => stats.memory.heapUsed + stats.memory.external;

/** Time for closed sockets and unloaded documents to be let go before measuring; shorter in quick runs. */
let settleMs = 1000;

async function settled(server: BenchServer): Promise<ProbeStats> {
  await sleep(settleMs);
  return server.stats({ gc: true });
}

async function idleConnections(target: Target, count: number): Promise<Delta> {
  const before = await settled(target.server);
  const ids = users(`idle${count}-`, count);
  const clients = await connectMany(count, (i) => target.connectDocument(ids[i]!, `inbox:${ids[i]}`, { timeoutMs: 120_000 }), 50);
  try {
    const after = await settled(target.server);
    return { count, heapPer: (heapOf(after) - heapOf(before)) / count, rssPer: (after.memory.rss - before.memory.rss) / count };
  } finally {
    closeAll(clients);
    await sleep(1000);
  }
}

async function openConversations(target: Target, count: number): Promise<Delta> {
  const owner = 'mem-owner';
  const conversations: string[] = [];
  for (let i = 0; i < count; i++) conversations.push(await target.createConversation([owner, 'mem-peer']));
  for (let i = 0; i < count; i += 10) await Promise.all(conversations.slice(i, i + 10).map((c) => target.seed(c, "mem-peer", 20)));
  // Unload everything the seeding opened, so "before" holds no conversation.
  await target.server.restart();
  const before = await settled(target.server);
  const perSocket = 400;
  const holders: Array<{ close(): void }> = [];
  try {
    for (let i = 0; i < count; i += perSocket) holders.push(await target.openMany(owner, conversations.slice(i, i + perSocket), 120_000));
    const after = await settled(target.server);
    return { count, heapPer: (heapOf(after) - heapOf(before)) / count, rssPer: (after.memory.rss - before.memory.rss) / count };
  } finally {
    holders.forEach((holder) => holder.close());
  }
}

export const memory: Metric = {
  id: 'memory',
  title: '4. Server memory per idle connection and per open conversation',
  async run(context) {
    const result: MetricResult = emptyResult(this.id, this.title);
    const idleSizes = context.quick ? [200] : [1000, 5000];
    const conversationCount = context.quick ? 50 : 1000;
    settleMs = context.quick ? 400 : 1000;
    const byTarget = await perTarget(context, result, (name: TargetName) =>
      withServer(name, async (server) => {
        const target = makeTarget(server);
        // Warm the server (JIT, pools) so the first measurement does not carry start-up allocations.
        await idleConnections(target, 20);
        const idle: Delta[] = [];
        for (const size of idleSizes) {
          idle.push(await idleConnections(target, size));
          context.log(`    ${name} ${size} idle: ${fmtBytes(idle[idle.length - 1]!.heapPer)} heap per connection`);
        }
        const conversation = await openConversations(target, conversationCount);
        context.log(`    ${name} ${conversationCount} open conversations: ${fmtBytes(conversation.heapPer)} heap each`);
        return { idle, conversation };
      }),
    );
    result.data = byTarget;
    const rows: string[][] = [];
    const parley = byTarget.parley;
    for (const [index, size] of idleSizes.entries()) {
      for (const name of context.targets) {
        const d = byTarget[name]?.idle[index];
        if (!d) continue;
        rows.push([`idle connection (${size})`, TARGET_LABEL[name], fmtBytes(d.heapPer), fmtBytes(d.rssPer), name === 'parley' ? '' : fmtRatio(ratio(parley?.idle[index]?.heapPer, d.heapPer))]);
      }
    }
    for (const name of context.targets) {
      const d = byTarget[name]?.conversation;
      if (!d) continue;
      rows.push([`open conversation (${conversationCount})`, TARGET_LABEL[name], fmtBytes(d.heapPer), fmtBytes(d.rssPer), name === 'parley' ? '' : fmtRatio(ratio(parley?.conversation.heapPer, d.heapPer))]);
    }
    result.tables.push({ caption: 'Heap = V8 heap used + external after forced GC, per unit. RSS deltas include allocator slack and are noisier.', columns: ['what', 'target', 'heap per unit', 'RSS per unit', 'Parley / target (heap)'], rows });
    const categories = [...idleSizes.map((s) => `idle conn (${s})`), `open conversation (${conversationCount})`];
    result.charts.push({
      name: 'memory',
      chart: {
        title: 'Server heap per idle connection / open conversation',
        yLabel: 'KiB',
        categories,
        series: context.targets.map((name) => ({
          name: TARGET_LABEL[name],
          values: [...idleSizes.map((_, i) => (byTarget[name]?.idle[i]?.heapPer ?? Number.NaN) / 1024), (byTarget[name]?.conversation.heapPer ?? Number.NaN) / 1024],
        })),
      },
    });
    result.notes.push('Relay "open conversation" is a joined room whose 20-row history was read from SQLite; it keeps nothing per room but the room membership.');
    return result;
  },
};
