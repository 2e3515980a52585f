/**
 * What a document load costs with and without an `update` listener attached
 * (issue 9, cold open): Yjs encodes the whole applied state again as an
 * update for any `update` listener, and at load the only one is Hocuspocus'
 * (PersistenceExtension.onLoadDocument sets it aside). Plain Yjs, one
 * process, both variants interleaved in the same run, after a warm-up.
 *
 *   tsx scripts/bench/window-load.ts [--messages=1000] [--rounds=200]
 */
import { loadavg } from 'node:os';
import * as Y from 'yjs';
import { appendMessage, conversationParts } from '@parley/schema';
import { fmt, summarize } from './lib/stats';
import { numberOption } from './lib/args';

const messages = numberOption('messages', 1000);
const rounds = numberOption('rounds', 200);

const source = new Y.Doc();
conversationParts(source);
for (let i = 0; i < messages; i++) appendMessage(source, { id: `m${i}`, author: `u${i % 5}`, text: `message ${i}, as long as a short chat line` });
const state = Y.encodeStateAsUpdate(source);

function load(withListener: boolean): number {
  const doc = new Y.Doc();
  if (withListener) doc.on('update', () => {});
  const started = performance.now();
  Y.transact(doc, () => Y.applyUpdate(doc, state));
  return performance.now() - started;
}

for (let i = 0; i < 30; i++) {
  load(true);
  load(false);
}
const withListener: number[] = [];
const without: number[] = [];
for (let i = 0; i < rounds; i++) {
  withListener.push(load(true));
  without.push(load(false));
}
const a = summarize(withListener);
const b = summarize(without);
console.log(`${messages} messages (${state.byteLength} bytes), ${rounds} interleaved loads each, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
console.log(`with an update listener: p50 ${fmt(a.p50)} ms, p99 ${fmt(a.p99)} ms`);
console.log(`without (as loaded now): p50 ${fmt(b.p50)} ms, p99 ${fmt(b.p99)} ms; ratio ${fmt(b.p50 / a.p50)}x`);
