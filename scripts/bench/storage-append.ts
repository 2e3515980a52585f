/**
 * The storage layer's append cost, SQLite against PostgreSQL in one run:
 * sequential appends (each awaited, as one socket's updates are: median and
 * p99 latency) and a burst of concurrent appends (group commit: appends per
 * second). Each append carries one message for the index, as a chat message
 * does. Load average is recorded beside the figures.
 *
 *   node --import tsx scripts/bench/storage-append.ts [--sequential=500] [--burst=2000]
 */
import { mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStorage } from '../../sync-server/src/storage/SqliteStorage';
import { PostgresStorage } from '../../sync-server/src/storage/PostgresStorage';
import type { Storage } from '../../sync-server/src/storage/Storage';
import { createSchema, dropSchemas, TEST_DATABASE_URL } from '../../sync-server/src/storage/postgres/testDatabase';
import { numberOption } from './lib/args';

const SEQUENTIAL = numberOption('sequential', 500);
const BURST = numberOption('burst', 2000);

const change = (i: number) => ({
  conversationId: 'c',
  messages: [{ id: `m${i}`, author: 'ann', kind: 'text' as const, text: `message number ${i} about the invoice`, createdAt: i, reactions: {} }],
  reads: [],
});
const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

async function measure(storage: Storage) {
  const latencies: number[] = [];
  for (let i = 0; i < SEQUENTIAL; i++) {
    const start = performance.now();
    await storage.documents.append('conversation:c', new Uint8Array(64).fill(i % 256), change(i));
    latencies.push(performance.now() - start);
  }
  latencies.sort((a, b) => a - b);
  const start = performance.now();
  await Promise.all(Array.from({ length: BURST }, (_, i) => storage.documents.append(`conversation:b${i % 50}`, new Uint8Array(64), change(SEQUENTIAL + i))));
  const perSecond = BURST / ((performance.now() - start) / 1000);
  await storage.close();
  return { median: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), perSecond };
}

const schema = await createSchema('parley_bench');
try {
  const load = loadavg()[0]!.toFixed(2);
  const sqlite = await measure(SqliteStorage.inDataDir(mkdtempSync(join(tmpdir(), 'parley-bench-'))));
  const postgres = await measure(await PostgresStorage.open({ connectionString: TEST_DATABASE_URL, schema }));
  const rows = [
    ['store', 'sequential median ms', 'sequential p99 ms', `burst of ${BURST}: appends/s`],
    ['SQLite', sqlite.median.toFixed(3), sqlite.p99.toFixed(3), sqlite.perSecond.toFixed(0)],
    ['PostgreSQL', postgres.median.toFixed(3), postgres.p99.toFixed(3), postgres.perSecond.toFixed(0)],
    ['PostgreSQL / SQLite', (postgres.median / sqlite.median).toFixed(1), (postgres.p99 / sqlite.p99).toFixed(1), (postgres.perSecond / sqlite.perSecond).toFixed(2)],
  ];
  console.log(`load average (1 min) at start: ${load}, now ${loadavg()[0]!.toFixed(2)}; ${SEQUENTIAL} sequential appends, then ${BURST} at once`);
  for (const r of rows) console.log(r.map((c) => c.padEnd(22)).join(''));
} finally {
  await dropSchemas([schema]);
}
