/**
 * What one erasure run costs (issue 14, item 5): a conversation of N
 * messages, one soft-deleted, folded into a garbage-collected snapshot
 * (`DocumentStore.compact(..., 0)`), as the erasure job does. Medians of 5
 * runs per size, against the 1,000-message baseline of the same run.
 * Run: node --import tsx scripts/bench-erasure.mts
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';
import * as Y from 'yjs';
import { appendMessage, softDeleteMessage } from '@parley/schema';
import { SqliteStorage } from '../sync-server/src/storage/SqliteStorage';
import { mergeDocumentParts } from '../sync-server/src/sync/Compactor';
import type { DocumentStore } from '../sync-server/src/storage/Storage';

async function once(messages: number): Promise<number> {
  const storage = new SqliteStorage(join(mkdtempSync(join(tmpdir(), 'parley-erasure-')), 'db.sqlite'));
  const documents: DocumentStore = storage.documents;
  const doc = new Y.Doc();
  doc.transact(() => {
    for (let i = 0; i < messages; i++) appendMessage(doc, { id: `m${i}`, author: 'a', text: `message number ${i} with some words in it` });
  });
  await storage.documents.append('conversation:c', Y.encodeStateAsUpdate(doc));
  await documents.compact('conversation:c', mergeDocumentParts, 0);
  let update: Uint8Array | null = null;
  doc.on('update', (u: Uint8Array) => (update = u));
  softDeleteMessage(doc, `m${Math.floor(messages / 2)}`);
  await storage.documents.append('conversation:c', update!);
  const start = performance.now();
  await documents.compact('conversation:c', mergeDocumentParts, 0);
  await storage.scrub();
  const ms = performance.now() - start;
  await storage.close();
  return ms;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const results: Record<number, number> = {};
for (const n of [1_000, 10_000]) {
  const runs: number[] = [];
  for (let r = 0; r < 5; r++) runs.push(await once(n));
  results[n] = median(runs);
  console.log(`${n} messages: median ${results[n]!.toFixed(1)} ms, max ${Math.max(...runs).toFixed(1)} ms (ratio to 1,000: ${(results[n]! / results[1_000]!).toFixed(1)})`);
}
console.log(`load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
