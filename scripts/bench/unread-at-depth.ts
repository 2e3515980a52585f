/**
 * One member's exact unread count at depth (issue 9: ingest slowed with the
 * history because every chat-notifier recompute counted each member's unread
 * rows). Seeds `--messages` (default 1M) straight into a SQLite message index
 * through its own write code (directSeed.ts), then times, interleaved in the
 * same process, the count as it was before migration 16 (a count(*) of every
 * unread row, the query copied here as the baseline) against
 * `SqliteMessageIndex.unread` (the running tallies), for a reader who never
 * read (every message unread), one ignoring an author and the main writer,
 * with 1,000 messages by two authors (some deleted) on top; checks they agree.
 * CPU time per call (process.cpuUsage) and wall time; load average recorded.
 *
 *   npx tsx scripts/bench/unread-at-depth.ts [--messages=1000000] [--calls=5]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStorage } from '../../sync-server/src/storage/SqliteStorage';
import { seedIndexDirectly } from './lib/directSeed';
import { numberOption } from './lib/args';

const MESSAGES = numberOption('messages', 1_000_000);
const CALLS = numberOption('calls', 5);

/** The count before migration 16 (SqliteMessageIndex's UNREAD filter under count(*)): the baseline. */
const ROW_BY_ROW = `SELECT count(*) FROM messages WHERE conversation_id = :c AND author != :u AND deleted_at IS NULL AND kind != 'system'
  AND author NOT IN (SELECT value FROM json_each(:ignored))
  AND seq > coalesce((SELECT m.seq FROM message_reads r JOIN messages m ON m.conversation_id = r.conversation_id AND m.id = r.message_id
                      WHERE r.conversation_id = :c AND r.user_id = :u), 0)`;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function timed(run: () => Promise<number>): Promise<{ result: number; cpuMs: number; wallMs: number }> {
  const cpu = process.cpuUsage();
  const wall = performance.now();
  const result = await run();
  const used = process.cpuUsage(cpu);
  return { result, cpuMs: (used.user + used.system) / 1000, wallMs: performance.now() - wall };
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'parley-unread-'));
  const loadBefore = loadavg()[0]!;
  const seedStart = performance.now();
  await seedIndexDirectly(dir, 'c', 'writer', MESSAGES, (i) => `message ${i}`);
  const seedSeconds = (performance.now() - seedStart) / 1000;
  const storage = SqliteStorage.inDataDir(dir);
  try {
    // On top: 1,000 by two authors, one in ten deleted, so each term of the tally count has work.
    const top = Array.from({ length: 1000 }, (_, i) => ({
      id: `top-${i}`, author: i % 2 ? 'spammer' : 'writer', kind: 'text' as const, text: `top ${i}`, createdAt: Date.now(), reactions: {},
      ...(i % 10 === 3 && { deletedAt: Date.now() }),
    }));
    await storage.messages.write({ conversationId: 'c', messages: top, reads: [] });
    const oldCount = storage.db.prepare(ROW_BY_ROW).pluck();
    const cases = [
      { label: 'reader, nothing read', user: 'reader', ignored: [] as string[] },
      { label: 'reader ignoring one other author', user: 'reader', ignored: ['spammer'] },
      { label: 'the writer (own messages)', user: 'writer', ignored: [] as string[] },
    ];
    console.log(`unread at depth: ${MESSAGES.toLocaleString('en')} messages seeded in ${seedSeconds.toFixed(1)} s; load ${loadBefore.toFixed(2)} before seeding, ${loadavg()[0]!.toFixed(2)} now`);
    console.log('| case | count | row by row: CPU ms (median of calls) | wall ms | tallies: CPU ms | wall ms | ratio (CPU) |');
    console.log('| --- | --- | --- | --- | --- | --- | --- |');
    for (const c of cases) {
      const params = { c: 'c', u: c.user, ignored: JSON.stringify(c.ignored) };
      const before: Array<Awaited<ReturnType<typeof timed>>> = [];
      const after: Array<Awaited<ReturnType<typeof timed>>> = [];
      for (let i = 0; i < CALLS; i++) {
        before.push(await timed(async () => oldCount.get(params) as number));
        after.push(await timed(() => storage.messages.unread('c', c.user, c.ignored)));
      }
      const counts = new Set([...before, ...after].map((t) => t.result));
      if (counts.size !== 1) throw new Error(`the counts differ for ${c.label}: ${[...counts].join(' vs ')}`);
      const [oldCpu, newCpu] = [median(before.map((t) => t.cpuMs)), median(after.map((t) => t.cpuMs))];
      console.log(
        `| ${c.label} | ${[...counts][0]!.toLocaleString('en')} | ${oldCpu.toFixed(2)} | ${median(before.map((t) => t.wallMs)).toFixed(2)} | ${newCpu.toFixed(3)} | ${median(after.map((t) => t.wallMs)).toFixed(3)} | ${(oldCpu / Math.max(newCpu, 0.001)).toFixed(0)}x |`,
      );
    }
    console.log(`load at the end ${loadavg()[0]!.toFixed(2)}`);
  } finally {
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
