/**
 * Metric 5: reconnect catch-up. A reader holds a conversation of H messages,
 * goes offline, misses N, reconnects with its replica: time and bytes until it
 * holds all H + N. The same N over a ten times longer history shows whether
 * the cost follows N (it should) or the history.
 */
import { withTimeout, type ChatClient } from '../lib/client';
import { closeAll, emptyResult, perTarget, type Metric, type MetricResult } from '../lib/metric';
import { TARGET_LABEL, withServer, type TargetName } from '../lib/server';
import { fmt, fmtBytes, fmtRatio, ratio } from '../lib/stats';
import { makeTarget, type Target } from '../lib/targets';

interface Case {
  /** The seeded history this conversation started from. */
  history: number;
  /** Messages the reader held when it went offline (seeded history plus earlier rounds). */
  before: number;
  missed: number;
  ms: number;
  bytes: number;
}

/** Missed messages are written 10 per update, the way a busy conversation's traffic arrives. */
const MISSED_BATCH = 10;
const REPEATS = 3;

/** A conversation seeded with `history` messages and a reader that holds it all; reused across rounds. */
interface Scene {
  history: number;
  reader: ChatClient;
  writer: ChatClient;
  close(): void;
}

async function scene(target: Target, history: number): Promise<Scene> {
  const conversation = await target.createConversation(['cu-writer', 'cu-reader']);
  await target.seed(conversation, 'cu-writer', history);
  const reader = await target.connect('cu-reader', conversation, { timeoutMs: 300_000 });
  const writer = await target.connect('cu-writer', conversation, { timeoutMs: 300_000, awareness: true });
  return { history, reader, writer, close: () => closeAll([reader, writer]) };
}

/** One round: the reader goes offline, misses `missed` messages, reconnects. */
async function round({ history, reader, writer }: Scene, missed: number): Promise<Case> {
  await reader.goOffline();
  const pending: Array<Promise<void>> = [];
  // Message ids are unique per round: the relay's table refuses a repeated id.
  const tag = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  for (let i = 0; i < missed; i += MISSED_BATCH) {
    const batch = Array.from({ length: Math.min(MISSED_BATCH, missed - i) }, (_, j) => ({ id: `cu-${tag}-${i + j}`, text: `missed message ${i + j}` }));
    pending.push(writer.sendBatch(batch));
    // Stay well under per-connection rate limits: at most 20 updates in flight.
    if (pending.length >= 20) await pending.shift();
  }
  await withTimeout(Promise.all(pending), 120_000, 'writing the missed messages');
  const before = reader.count();
  const expected = before + missed;
  const bytesBefore = reader.bytesIn();
  const start = performance.now();
  await reader.goOnline(120_000);
  const ms = performance.now() - start;
  if (reader.count() < expected) throw new Error(`reader holds ${reader.count()} of ${expected} messages after resync`);
  return { history, before, missed, ms, bytes: reader.bytesIn() - bytesBefore };
}

export const catchup: Metric = {
  id: 'catchup',
  title: '5. Reconnect catch-up',
  async run(context) {
    const result: MetricResult = emptyResult(this.id, this.title);
    const base = context.quick ? 1000 : 10_000;
    const cases: Array<[number, number]> = context.quick
      ? [[base, 100], [base, 1000], [base * 10, 100]]
      : [[base, 100], [base, 1000], [base, 10_000], [base * 10, 100], [base * 10, 10_000]];
    // Catch-up after a disconnect, not a renewal: the whole history stays in the live document
    // (a renewal in between would close the reader with document-renewed; cold-open measures that).
    const window = process.env.LIVE_WINDOW_MESSAGES;
    process.env.LIVE_WINDOW_MESSAGES = String(base * 10 * 2 + 100_000);
    const byTarget = await perTarget(context, result, (name: TargetName) =>
      withServer(name, async (server) => {
        const target = makeTarget(server);
        const out: Case[] = [];
        const histories = [...new Set(cases.map(([history]) => history))];
        for (const history of histories) {
          const current = await scene(target, history);
          try {
            // One discarded round first: the first resync pays for JIT warm-up and loading.
            await round(current, 10);
            for (const [, missed] of cases.filter(([h]) => h === history)) {
              // Median of three rounds: single resyncs take milliseconds and are noisy.
              const rounds: Case[] = [];
              for (let r = 0; r < REPEATS; r++) rounds.push(await round(current, missed));
              rounds.sort((a, b) => a.ms - b.ms);
              const median = rounds[Math.floor(rounds.length / 2)]!;
              out.push(median);
              context.log(`    ${name} history ${history}, missed ${missed}: ${fmt(median.ms)} ms, ${fmtBytes(median.bytes)} (median of ${REPEATS})`);
            }
          } finally {
            current.close();
          }
        }
        return out;
      }),
    );
    if (window === undefined) delete process.env.LIVE_WINDOW_MESSAGES;
    else process.env.LIVE_WINDOW_MESSAGES = window;
    result.data = byTarget;
    const find = (name: TargetName, history: number, missed: number): Case | undefined => byTarget[name]?.find((c) => c.history === history && c.missed === missed);
    const rows: string[][] = [];
    for (const [history, missed] of cases) {
      for (const name of context.targets) {
        const c = find(name, history, missed);
        if (!c) continue;
        rows.push([
          String(missed),
          history.toLocaleString('en-US'),
          c.before.toLocaleString('en-US'),
          TARGET_LABEL[name],
          fmt(c.ms),
          fmtBytes(c.bytes),
          name === 'parley' ? fmtRatio(ratio(c.ms, find('hocuspocus', history, missed)?.ms)) : '',
          name === 'parley' ? fmtRatio(ratio(c.ms, find('socketio', history, missed)?.ms)) : '',
        ]);
      }
    }
    result.tables.push({ caption: `Time from reconnect to holding every missed message, and bytes received meanwhile; median of ${REPEATS} rounds. Rounds run one after another on one conversation per seeded history, so "held before" counts the earlier rounds' messages too.`, columns: ['missed N', 'seeded history', 'held before', 'target', 'time ms', 'bytes', 'Parley / Hocuspocus', 'Parley / relay'], rows });

    const small = find('parley', base, 100);
    const large = find('parley', base * 10, 100);
    const timeGrowth = ratio(large?.ms, small?.ms);
    const byteGrowth = ratio(large?.bytes, small?.bytes);
    const nGrowth = ratio(find('parley', base, 1000)?.ms, small?.ms);
    result.checks.push({
      goal: 'catch-up grows with N, not with history',
      // Ten times the history may cost a little (state vectors, delete sets), not ten times.
      met: Number.isFinite(byteGrowth) ? byteGrowth < 2 && timeGrowth < 3 : null,
      detail: `N=100 with 10x the history: time ${fmtRatio(timeGrowth)}, bytes ${fmtRatio(byteGrowth)}; 10x N at the same history: time ${fmtRatio(nGrowth)}`,
    });
    result.charts.push({
      name: 'catchup',
      chart: {
        title: 'Catch-up time by missed messages N (history before)',
        yLabel: 'ms',
        log: true,
        categories: cases.map(([h, n]) => `N=${n} (H=${h})`),
        series: context.targets.map((name) => ({ name: TARGET_LABEL[name], values: cases.map(([h, n]) => find(name, h, n)?.ms) })),
      },
    });
    return result;
  },
};
