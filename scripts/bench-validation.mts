/**
 * What validating one client update costs, in-process, in a 100-message and a
 * 100,000-message conversation: the validator is meant to cost what the
 * update costs, not what the history costs. Typical updates from a provider
 * (one transaction each): a new message, an edit, a reaction, a read receipt,
 * on messages anywhere in the history. Each is validated and then applied, as
 * the server does.
 *
 *   node --import tsx scripts/bench-validation.mts [--updates 8000] [--big 100000]
 *
 * Prints medians and p99s per kind and the big/small ratios (target: within 2x).
 */
import { parseArgs } from 'node:util';
import * as Y from 'yjs';
import { appendMessage, conversationParts, setReaction, setRead } from '@parley/schema';
import { validateUpdate } from '../sync-server/src/sync/validation/UpdateValidator';

const { values } = parseArgs({ options: { updates: { type: 'string', default: '8000' }, big: { type: 'string', default: '100000' }, small: { type: 'string', default: '100' } } });
const UPDATES = Number(values.updates);
const SIZES = [Number(values.small), Number(values.big)];
const KINDS = ['new message', 'edit', 'reaction', 'read receipt'] as const;
type Kind = (typeof KINDS)[number];
const NAME = 'conversation:bench';

/** mulberry32, so both sizes see the same sequence of choices. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A conversation as the server holds it: meta and members by the server, messages by alice and bob in turns. */
function buildConversation(messages: number) {
  const server = new Y.Doc();
  const { meta, members } = conversationParts(server);
  server.transact(() => {
    meta.set('id', 'bench');
    meta.set('title', 'Bench');
    members.set('alice', { role: 'owner', joinedAt: 1 });
    members.set('bob', { role: 'member', joinedAt: 1 });
  });
  const alice = new Y.Doc();
  const bob = new Y.Doc();
  const sync = (from: Y.Doc, to: Y.Doc) => Y.applyUpdate(to, Y.encodeStateAsUpdate(from, Y.encodeStateVector(to)));
  sync(server, alice);
  sync(server, bob);
  const text = 'A typical chat message, a sentence or two long, nothing fancy.';
  for (let n = 0; n < messages; ) {
    for (const [doc, author] of [[alice, 'alice'], [bob, 'bob']] as const) {
      const batch = Math.min(100, messages - n);
      doc.transact(() => {
        for (let i = 0; i < batch; i++, n++) {
          appendMessage(doc, { id: `m${n}`, author, text: `${text} #${n}`, createdAt: 1_700_000_000_000 + n });
          if (n % 7 === 0) setReaction(doc, `m${n}`, author, '👍', true, 1_700_000_000_000 + n);
        }
      });
      sync(doc, alice === doc ? bob : alice);
    }
  }
  sync(alice, server);
  sync(bob, server);
  sync(server, alice);
  const owners = new Map<number, string>([
    [server.clientID, '@server'],
    [alice.clientID, 'alice'],
    [bob.clientID, 'bob'],
  ]);
  return { server, alice, owners };
}

/** One change by alice on her replica, captured as the provider would send it. */
function makeUpdate(alice: Y.Doc, kind: Kind, total: number, pick: () => number, seq: number): Uint8Array {
  let update: Uint8Array | null = null;
  const capture = (u: Uint8Array) => (update = u);
  alice.on('update', capture);
  const messages = conversationParts(alice).messages;
  const at = 1_750_000_000_000 + seq; // in the past: client times at most 5 minutes ahead are accepted
  switch (kind) {
    case 'new message':
      appendMessage(alice, { id: `new-${seq}`, author: 'alice', text: `new message ${seq}`, createdAt: at });
      break;
    case 'edit': {
      // One of alice's messages (she writes the even blocks of 100), anywhere in the history.
      const index = Math.min(total - 1, 200 * Math.floor(pick() * Math.ceil(total / 200)) + Math.floor(pick() * 100));
      const map = messages.get(index);
      alice.transact(() => {
        map.set('text', `edited ${seq}`);
        map.set('editedAt', at);
      });
      break;
    }
    case 'reaction': {
      const map = messages.get(Math.floor(pick() * total));
      const reactions = map.get('reactions') as Y.Map<number>;
      const key = `alice:${['🎉', '❤️', '👀'][seq % 3]}`;
      alice.transact(() => (reactions.has(key) ? reactions.delete(key) : reactions.set(key, at)));
      break;
    }
    case 'read receipt':
      setRead(alice, 'alice', String(messages.get(Math.floor(pick() * total)).get('id')), at);
      break;
  }
  alice.off('update', capture);
  if (!update) throw new Error(`${kind} made no update`);
  return update;
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

interface Figures {
  median: number;
  p99: number;
}

interface Subject {
  size: number;
  server: Y.Doc;
  alice: Y.Doc;
  ownerOf: (client: number) => string | null;
  owners: Map<number, string>;
  pick: () => number;
  samples: Map<Kind, number[]>;
  buildMs: number;
  bytes: number;
}

function subject(size: number): Subject {
  process.stderr.write(`building ${size.toLocaleString('en')} messages...\n`);
  const started = performance.now();
  const { server, alice, owners } = buildConversation(size);
  const buildMs = performance.now() - started;
  const ownerOf = (client: number) => owners.get(client) ?? null;
  return { size, server, alice, owners, ownerOf, pick: random(42), samples: new Map(KINDS.map((k) => [k, []])), buildMs, bytes: Y.encodeStateAsUpdate(server).byteLength };
}

const writer = { userId: 'alice', admin: false };

/** Validates (timed) and applies one update of `kind` in `s`. */
function step(s: Subject, kind: Kind, seq: number, record: boolean): void {
  const update = makeUpdate(s.alice, kind, s.size, s.pick, seq);
  const t0 = process.hrtime.bigint();
  const verdict = validateUpdate(s.server, NAME, update, writer, s.ownerOf);
  const elapsed = Number(process.hrtime.bigint() - t0) / 1000;
  if ('reason' in verdict) throw new Error(`${kind} refused: ${verdict.reason} (${verdict.detail})`);
  for (const client of verdict.newClients) s.owners.set(client, 'alice');
  Y.applyUpdate(s.server, update);
  if (record) s.samples.get(kind)!.push(elapsed);
}

function figures(s: Subject): Record<Kind | 'all', Figures> {
  const result = {} as Record<Kind | 'all', Figures>;
  const all: number[] = [];
  for (const [kind, values] of s.samples) {
    const sorted = [...values].sort((a, b) => a - b);
    all.push(...values);
    result[kind] = { median: quantile(sorted, 0.5), p99: quantile(sorted, 0.99) };
  }
  all.sort((a, b) => a - b);
  result.all = { median: quantile(all, 0.5), p99: quantile(all, 0.99) };
  return result;
}

const subjects = SIZES.map(subject);
// Both sizes in turns, update by update, so load from anything else on the machine falls on both alike.
// The first fifth warms up the JIT and is not counted.
const rounds = UPDATES / KINDS.length;
const warmup = Math.floor(rounds / 5);
for (let round = 0; round < rounds + warmup; round++) {
  KINDS.forEach((kind, k) => {
    for (const s of subjects) step(s, kind, round * KINDS.length + k, round >= warmup);
  });
}
const results = subjects.map((s) => ({ size: s.size, buildMs: s.buildMs, bytes: s.bytes, figures: figures(s) }));
const [small, big] = results as [(typeof results)[0], (typeof results)[0]];
const us = (n: number) => `${n.toFixed(1)} µs`;
const ratio = (a: number, b: number) => `${(b / a).toFixed(2)}x`;

console.log(`\nvalidateUpdate, per update (${UPDATES} updates per size after warm-up, alice writing; node ${process.version})`);
for (const r of results) console.log(`  ${r.size.toLocaleString('en')} messages: ${(r.bytes / 1e6).toFixed(2)} MB encoded, built in ${(r.buildMs / 1000).toFixed(1)} s`);
const header = ['update', `median ${small.size}`, `p99 ${small.size}`, `median ${big.size.toLocaleString('en')}`, `p99 ${big.size.toLocaleString('en')}`, 'ratio median', 'ratio p99'];
const rows = ([...KINDS, 'all'] as const).map((kind) => {
  const s = small.figures[kind];
  const b = big.figures[kind];
  return [kind, us(s.median), us(s.p99), us(b.median), us(b.p99), ratio(s.median, b.median), ratio(s.p99, b.p99)];
});
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
console.log(`\n${line(header)}\n|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|\n${rows.map(line).join('\n')}`);
const worst = Math.max(...([...KINDS, 'all'] as const).map((k) => big.figures[k].median / small.figures[k].median));
const worstP99 = Math.max(...([...KINDS, 'all'] as const).map((k) => big.figures[k].p99 / small.figures[k].p99));
console.log(`\nworst median ratio big/small: ${worst.toFixed(2)}x (target: within 2x) -> ${worst <= 2 ? 'ok' : 'OVER'}; worst p99 ratio: ${worstP99.toFixed(2)}x`);
