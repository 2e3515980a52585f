/**
 * First load of the web app, as a signed-in user opening it on a new device.
 *
 * A real server serving a production build, and Debian's Chromium. Each run
 * is a fresh browser context (no HTTP cache, no service worker, no
 * IndexedDB) holding only the sign-in (localStorage): it loads `/` and
 * stops when the conversation list shows the user's conversation. Measured:
 * bytes transferred for it (headers + encoded bodies, from the browser's own
 * accounting), and the time from navigation start to the list. Then the same
 * page is loaded again (a repeat visit: HTTP cache and service worker warm)
 * and timed. Each both unthrottled (loopback) and on an emulated 10 Mbit/s,
 * 40 ms link. Prints medians.
 *
 *   npx tsx scripts/bench-first-load.ts [--runs 7]
 */
import type { BrowserContext, Page } from 'playwright-core';
import { launchBrowser, send, signedIn, startAppServer, startDirect } from '../e2e/fixtures/browser';

const arg = (name: string, fallback: number) => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
};
const runs = arg('runs', 7);

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

interface Link {
  name: string;
  /** CDP Network.emulateNetworkConditions, or null for none. */
  conditions: { latency: number; downloadThroughput: number; uploadThroughput: number } | null;
}
const LINKS: Link[] = [
  { name: 'loopback', conditions: null },
  { name: '10 Mbit/s, 40 ms', conditions: { latency: 40, downloadThroughput: 1_250_000, uploadThroughput: 625_000 } },
];

/** Loads the app and resolves when the conversation list shows `conversationId`: ms since navigation start and bytes transferred. */
async function load(context: BrowserContext, page: Page, url: string, conversationId: string, link: Link): Promise<{ ms: number; bytes: number }> {
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  if (link.conditions) await cdp.send('Network.emulateNetworkConditions', { offline: false, ...link.conditions });
  let bytes = 0;
  cdp.on('Network.loadingFinished', (event: { encodedDataLength: number }) => {
    bytes += event.encodedDataLength;
  });
  await page.goto(url);
  const ms = await page.waitForFunction((id) => (document.querySelector(`[data-testid="conversation-${id}"]`) ? performance.now() : null), conversationId, { polling: 'raf', timeout: 60_000 });
  const result = { ms: (await ms.jsonValue()) as number, bytes };
  await cdp.detach();
  return result;
}

const server = await startAppServer();
const browser = await launchBrowser();
try {
  const setup = await signedIn(browser, server, 'bench-load');
  const conversationId = await startDirect(setup.page, 'bench-load-peer');
  await send(setup.page, 'hello');
  const storageState = await setup.context.storageState();
  await setup.context.close();

  for (const link of LINKS) {
    const cold: { ms: number; bytes: number }[] = [];
    const warm: number[] = [];
    for (let run = 0; run < runs; run++) {
      const context = await browser.newContext({ storageState, viewport: { width: 1100, height: 720 } });
      const page = await context.newPage();
      cold.push(await load(context, page, server.httpUrl, conversationId, link));
      await page.waitForFunction(() => navigator.serviceWorker?.controller?.state === 'activated', undefined, { timeout: 15_000 });
      warm.push((await load(context, page, server.httpUrl, conversationId, link)).ms);
      await context.close();
    }
    console.log(
      JSON.stringify({
        link: link.name,
        runs,
        firstLoadBytes: median(cold.map((c) => c.bytes)),
        firstLoadToListMs: Math.round(median(cold.map((c) => c.ms))),
        repeatVisitToListMs: Math.round(median(warm)),
      }),
    );
  }
} finally {
  await browser.close();
  await server.stop();
}
