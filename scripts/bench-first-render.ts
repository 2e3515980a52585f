/**
 * First render of a conversation with 1,000 cached messages, from IndexedDB.
 *
 * A real server and Debian's Chromium: one user fills a conversation with
 * 1,000 messages, then the page is reloaded offline (the service worker
 * serves the app shell, the SDK reads the replica from IndexedDB) and we read
 * the app's performance marks: when the replicas were loaded and when the
 * conversation view first rendered all 1,000 messages, in ms since navigation
 * start. Baseline, measured in the same run the same way: an empty
 * conversation. Prints medians, p99s and the ratio.
 *
 *   npx tsx scripts/bench-first-render.ts [--runs 20] [--messages 1000]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { launchBrowser, send, signedIn, startAppServer, startDirect, waitConnection } from '../e2e/fixtures/browser';

const arg = (name: string, fallback: number) => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
};
const runs = arg('runs', 20);
const messageCount = arg('messages', 1000);

interface Sample {
  replicasLoaded: number;
  rendered: number;
}

const quantile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
};
const round = (n: number) => Math.round(n * 10) / 10;

async function measure(page: Page, id: string, expected: number): Promise<Sample> {
  await page.goto(`about:blank`);
  await page.goto(`${process.env.BENCH_URL}/#/c/${id}`);
  const handle = await page.waitForFunction(
    (want) => {
      const rendered = performance.getEntriesByName('parley:conversation-rendered').find((m) => (m as PerformanceMark).detail?.count >= want);
      const loaded = performance.getEntriesByName('parley:replicas-loaded')[0];
      return rendered && loaded ? { rendered: rendered.startTime, replicasLoaded: loaded.startTime } : null;
    },
    expected,
    { timeout: 30_000, polling: 20 },
  );
  return (await handle.jsonValue()) as Sample;
}

const server = await startAppServer();
process.env.BENCH_URL = server.httpUrl;
const browser = await launchBrowser();
try {
  const { context, page } = await signedIn(browser, server, 'bench');
  const full = await startDirect(page, 'bench-peer');
  // Fill through the SDK in the page: the same path as typing, 1,000 times.
  await page.evaluate(
    async ({ id, count }) => {
      const session = (window as unknown as { parley: { conversation(id: string): { send(text: string): string } } }).parley;
      const chat = session.conversation(id);
      for (let i = 0; i < count; i++) chat.send(`message ${i + 1}: ${'lorem ipsum dolor sit amet '.repeat(1 + (i % 4))}`);
    },
    { id: full, count: messageCount },
  );
  await waitConnection(page, 'synced', 60_000);
  await page.goto(`${server.httpUrl}/#/`);
  const empty = await startDirect(page, 'bench-empty');
  await send(page, 'warm-up');
  await waitConnection(page, 'synced');
  // y-indexeddb writes in the background; give it a moment to settle.
  await new Promise((r) => setTimeout(r, 1_000));

  await context.setOffline(true);
  const samples: { full: Sample[]; empty: Sample[] } = { full: [], empty: [] };
  await measure(page, full, messageCount); // warm-up, not counted
  for (let i = 0; i < runs; i++) {
    samples.full.push(await measure(page, full, messageCount));
    samples.empty.push(await measure(page, empty, 1));
  }
  const summary = (list: Sample[], key: keyof Sample) => ({ median: round(quantile(list.map((s) => s[key]), 0.5)), p99: round(quantile(list.map((s) => s[key]), 0.99)) });
  const result = {
    runs,
    messages: messageCount,
    unit: 'ms since navigation start, offline reload, app shell from the service worker',
    conversation1000: { replicasLoaded: summary(samples.full, 'replicasLoaded'), rendered: summary(samples.full, 'rendered') },
    baselineEmpty: { replicasLoaded: summary(samples.empty, 'replicasLoaded'), rendered: summary(samples.empty, 'rendered') },
    ratioRenderedMedian: round(quantile(samples.full.map((s) => s.rendered), 0.5) / quantile(samples.empty.map((s) => s.rendered), 0.5)),
  };
  console.log(JSON.stringify(result, null, 2));
  const dir = resolve(import.meta.dirname, '../bench-results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(resolve(dir, 'first-render.json'), JSON.stringify(result, null, 2));
  await context.close();
} finally {
  await browser.close();
  await server.stop();
}
