/**
 * Cross-node against same-node delivery latency (issue 15), in one run: two
 * Parley servers on one PostgreSQL schema; a writer on node 1 sends messages
 * one at a time; one reader on node 1 and one on node 2 time each message
 * from the writer's append to its arrival in their replica. The same messages
 * reach both, so the difference is the cross-node path (commit, NOTIFY,
 * LISTEN, apply, broadcast) against the local broadcast. Load average is
 * recorded before and after: on a loaded machine compare the two columns,
 * not the absolute figures.
 *
 *   node --import tsx scripts/bench/cluster-latency.ts [--messages=300]
 */
import { loadavg } from 'node:os';
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider';
import WebSocket from 'ws';
import * as Y from 'yjs';
import { appendMessage, conversationDocName, conversationParts } from '@parley/schema';
import { startServer, type TestServer } from '../../e2e/fixtures/server';
import { createConversation } from '../../e2e/fixtures/clients';
import { dropSchemas, urlWithSchema } from '../../sync-server/src/storage/postgres/testDatabase';
import { numberOption } from './lib/args';

const MESSAGES = numberOption('messages', 300);
const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

async function open(node: TestServer, userId: string, name: string): Promise<{ doc: Y.Doc; close(): void }> {
  const doc = new Y.Doc();
  const socket = new HocuspocusProviderWebsocket({ url: node.wsUrl, WebSocketPolyfill: WebSocket });
  let synced!: () => void;
  const ready = new Promise<void>((resolve) => (synced = resolve));
  const provider = new HocuspocusProvider({ websocketProvider: socket, name, document: doc, token: await node.token(userId), onSynced: () => synced() });
  provider.attach();
  await ready;
  return {
    doc,
    close() {
      provider.destroy();
      socket.destroy();
    },
  };
}

/** Arrival time of each message id in this replica. */
function arrivals(doc: Y.Doc): Map<string, number> {
  const seen = new Map<string, number>();
  conversationParts(doc).messages.observe((event) => {
    const now = performance.now();
    for (const item of event.changes.added) {
      for (const content of item.content.getContent()) {
        const id = content instanceof Y.Map ? content.get('id') : undefined;
        if (typeof id === 'string' && !seen.has(id)) seen.set(id, now);
      }
    }
  });
  return seen;
}

const servers: TestServer[] = [];
let schema: string | null = null;
try {
  const loadBefore = loadavg().map((l) => l.toFixed(2)).join(' ');
  const n1 = await startServer({ store: 'postgres' });
  servers.push(n1);
  schema = n1.schema;
  const n2 = await startServer({ env: { DATABASE_URL: urlWithSchema(n1.schema!), JWT_SECRET: n1.secret } });
  servers.push(n2);
  const id = await createConversation(n1, 'alice', ['bob', 'carol']);
  const name = conversationDocName(id);
  const writer = await open(n1, 'alice', name);
  const same = await open(n1, 'bob', name);
  const cross = await open(n2, 'carol', name);
  const atSame = arrivals(same.doc);
  const atCross = arrivals(cross.doc);
  const sentAt = new Map<string, number>();
  for (let i = 0; i < MESSAGES; i++) {
    const mid = `m${i}`;
    sentAt.set(mid, performance.now());
    appendMessage(writer.doc, { id: mid, author: 'alice', text: `message ${i}` });
    const until = performance.now() + 10_000;
    while ((!atSame.has(mid) || !atCross.has(mid)) && performance.now() < until) await new Promise((resolve) => setTimeout(resolve, 1));
  }
  const latencies = (seen: Map<string, number>) =>
    [...sentAt].flatMap(([mid, at]) => (seen.has(mid) ? [seen.get(mid)! - at] : [])).sort((a, b) => a - b);
  const sameL = latencies(atSame);
  const crossL = latencies(atCross);
  const row = (label: string, l: number[]) => `| ${label} | ${l.length}/${MESSAGES} | ${quantile(l, 0.5).toFixed(1)} | ${quantile(l, 0.99).toFixed(1)} |`;
  console.log(`\nload average before: ${loadBefore}; after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}; ${MESSAGES} messages, one at a time\n`);
  console.log('| reader | delivered | p50 ms | p99 ms |');
  console.log('|---|---|---|---|');
  console.log(row('same node', sameL));
  console.log(row('other node', crossL));
  console.log(`\ncross-node / same-node p50: ${(quantile(crossL, 0.5) / quantile(sameL, 0.5)).toFixed(2)}x`);
  for (const c of [writer, same, cross]) c.close();
} finally {
  for (const s of servers) await s.kill().catch(() => undefined);
  if (schema) await dropSchemas(new Set([schema]));
}
