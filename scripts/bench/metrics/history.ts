/**
 * Metric: history pages and search from the message index (issue 9). One
 * conversation with a long history; history pages (`GET .../messages`) at
 * depth 1, 1,000 and 20,000 pages of 50, and full-text search (`GET
 * /api/search`) over all of it. Parley only: stock Hocuspocus and the relay
 * have no index (a Yjs server loads the whole document to serve any page; see
 * the cold-open metric).
 *
 * Set-up: building 1M messages through the WebSocket takes longer than a
 * bench run may (ingest is its own metric), so the index rows are inserted
 * directly in SQL while the server is stopped, exactly as the write pipeline
 * stores them (same table, same FTS5 triggers), and marked built. The
 * conversation and its members are created through the API.
 *
 * Server time is the route's own `Server-Timing` (the membership check, the
 * query, building the answer; not the token check or JSON encoding); HTTP
 * round trips on loopback are shown beside it, with `/healthz` round trips in
 * the same run as the floor HTTP alone costs on this machine.
 */
import BetterSqlite3 from 'better-sqlite3';
import { join } from 'node:path';
import { emptyResult, type Metric, type MetricResult } from '../lib/metric';
import { withServer, type BenchServer } from '../lib/server';
import { fmt, summarize, type Summary } from '../lib/stats';

const PAGE = 50;
/** A small seeded generator (mulberry32), so every run indexes the same texts. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SYLLABLES = ['ka', 'lo', 'mi', 'ne', 'ru', 'sa', 'ti', 'vo', 'pe', 'da', 'gu', 'ho', 'ji', 'be', 'fa', 'zu'];
/** 4,096 pseudo-words of three syllables: each appears in about 0.2% of the messages. */
const WORDS = Array.from({ length: 4096 }, (_, i) => SYLLABLES[i & 15]! + SYLLABLES[(i >> 4) & 15]! + SYLLABLES[(i >> 8) & 15]!);

function seedIndex(dataDir: string, conversationId: string, author: string, count: number): number {
  const started = performance.now();
  const db = new BetterSqlite3(join(dataDir, 'parley.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  const insert = db.prepare(
    // One author, text only: both running tallies (migration 16) are the seq.
    `INSERT INTO messages (conversation_id, seq, id, author, kind, text, created_at, reply_to, attachments, mentions, edited_at, deleted_at, reactions, tally, author_tally)
     VALUES (?, ?, ?, ?, 'text', ?, ?, NULL, NULL, NULL, NULL, NULL, '{}', ?, ?)`,
  );
  const random = seeded(9);
  const t0 = Date.now() - count * 1000;
  const batch = db.transaction((from: number, to: number) => {
    for (let i = from; i <= to; i++) {
      const words = Array.from({ length: 8 }, () => WORDS[Math.floor(random() * WORDS.length)]!);
      insert.run(conversationId, i, `b${i}`, author, words.join(' '), t0 + i * 1000, i, i);
    }
  });
  for (let from = 1; from <= count; from += 50_000) batch(from, Math.min(count, from + 49_999));
  db.prepare('INSERT INTO message_index_state (conversation_id, built_at) VALUES (?, ?) ON CONFLICT DO NOTHING').run(conversationId, Date.now());
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  return performance.now() - started;
}

interface Timings {
  /** The route's own time, from its `Server-Timing` header (the query, the membership check, building the answer). */
  server: Summary;
  /** HTTP round trip on loopback, as the generator saw it. */
  roundTrip: Summary;
}

async function timeGets(server: BenchServer, token: string, paths: readonly string[], rounds: number): Promise<Timings> {
  const own: number[] = [];
  const trips: number[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const path of paths) {
      const started = performance.now();
      const response = await fetch(`${server.httpUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
      await response.arrayBuffer();
      const took = performance.now() - started;
      if (!response.ok) throw new Error(`${path}: ${response.status}`);
      if (round === 0) continue; // the first round warms caches and statements
      trips.push(took);
      const timing = /dur=([\d.]+)/.exec(response.headers.get('server-timing') ?? '');
      if (timing) own.push(Number(timing[1]));
    }
  }
  return { server: summarize(own), roundTrip: summarize(trips) };
}

export const history: Metric = {
  id: 'history',
  title: 'History pages and search from the message index',
  async run({ quick, targets, log }): Promise<MetricResult> {
    const result = emptyResult(this.id, this.title);
    if (!targets.includes('parley')) return result;
    const total = quick ? 60_000 : 1_000_000;
    const depths = quick ? [1, 100, 1_000] : [1, 1_000, 20_000];
    await withServer('parley', async (server) => {
      const token = await server.token('hist-a');
      const created = await fetch(`${server.httpUrl}/api/conversations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ members: ['hist-b'], title: 'A long history' }),
      });
      const { id } = (await created.json()) as { id: string };
      await server.stop();
      log(`  history: inserting ${total.toLocaleString('en')} index rows in SQL`);
      const seedMs = seedIndex(server.dataDir, id, 'hist-a', total);
      log(`  history: seeded in ${(seedMs / 1000).toFixed(1)} s`);
      await server.restart();

      const floor = await timeGets(server, token, ['/healthz'], 30);
      const pageRows: string[][] = [];
      for (const depth of depths) {
        // The page `depth` pages back: before the message that starts it (a cursor a client would hold).
        const seq = total - (depth - 1) * PAGE + 1;
        // Depth 1 is the newest page (no cursor); deeper pages start before a seq a previous page handed out.
        const paths = Array.from({ length: 5 }, (_, k) => `/api/conversations/${id}/messages?limit=${PAGE}${depth === 1 ? '' : `&before=h:${seq - k}`}`);
        const s = await timeGets(server, token, paths, 7);
        pageRows.push([depth.toLocaleString('en'), ((depth - 1) * PAGE).toLocaleString('en'), fmt(s.server.p50, 2), fmt(s.server.p99, 2), fmt(s.roundTrip.p50, 2), fmt(s.roundTrip.p99, 2)]);
        result.data[`page-${depth}`] = s;
        result.checks.push({ goal: `history page at depth ${depth.toLocaleString('en')} pages under 5 ms server time`, met: s.server.p50 < 5, detail: `server p50 ${fmt(s.server.p50, 2)} ms, p99 ${fmt(s.server.p99, 2)} ms; round trip p50 ${fmt(s.roundTrip.p50, 2)} ms` });
      }
      result.tables.push({
        caption: `History pages of ${PAGE}, ${total.toLocaleString('en')} messages in the conversation; ms (server: the route's Server-Timing; round trip on loopback, /healthz floor p50 ${fmt(floor.roundTrip.p50, 2)} ms)`,
        columns: ['depth (pages)', 'messages newer', 'server p50', 'server p99', 'round trip p50', 'round trip p99'],
        rows: pageRows,
      });

      const random = seeded(17);
      const pick = () => WORDS[Math.floor(random() * WORDS.length)]!;
      const kinds: Array<{ name: string; query: () => string }> = [
        { name: 'one word (~0.2% of messages)', query: pick },
        { name: 'two words (both must match)', query: () => `${pick()} ${pick()}` },
        { name: 'a 4-letter prefix (~16x the matches)', query: () => pick().slice(0, 4) },
      ];
      const searchRows: string[][] = [];
      const all: number[] = [];
      for (const kind of kinds) {
        const paths = Array.from({ length: 20 }, () => `/api/search?q=${encodeURIComponent(kind.query())}&limit=20`);
        const s = await timeGets(server, token, paths, 3);
        searchRows.push([kind.name, fmt(s.server.p50, 2), fmt(s.server.p99, 2), fmt(s.roundTrip.p50, 2), fmt(s.roundTrip.p99, 2)]);
        result.data[`search-${kind.name}`] = s;
        all.push(s.server.p50);
      }
      const mixed = summarize(all);
      result.tables.push({
        caption: `Search (best 20 by BM25) over ${total.toLocaleString('en')} messages; ms, 40 queries per kind`,
        columns: ['query', 'server p50', 'server p99', 'round trip p50', 'round trip p99'],
        rows: searchRows,
      });
      result.checks.push({ goal: `search over ${total.toLocaleString('en')} messages: p50 under 20 ms`, met: Math.max(...all) < 20, detail: `server p50 by kind ${all.map((v) => fmt(v, 2)).join(' / ')} ms (median of kinds ${fmt(mixed.p50, 2)})` });
      result.notes.push(
        `Index rows inserted directly in SQL (${(seedMs / 1000).toFixed(0)} s for ${total.toLocaleString('en')} rows with their FTS5 entries), the conversation and members through the API; texts are 8 seeded pseudo-words from 4,096.`,
      );
    });
    return result;
  },
};
