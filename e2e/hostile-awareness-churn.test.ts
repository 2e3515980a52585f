/**
 * Issue 11, item 4, its second road: many short-lived awareness states. The
 * report: clients joining a document with a presence state and leaving, over
 * and over, left /healthz silent 20 s after the churn had stopped. Here one
 * user churns at the rates the server allows (at most
 * DEFAULTS.connectionsPerUser sockets at once, each joining with a fresh Yjs
 * client id and a state, then leaving; and one socket adding and removing
 * states as fast as its message rate lets it), while an honest member stays in
 * the document. /healthz is timed from outside the process during the churn
 * and for a while after it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS, conversationDocName } from '@parley/schema';
import { startServer, type TestServer } from './fixtures/server';
import { createConversation } from './fixtures/clients';
import { MessageType, RawClient, awarenessUpdate, frames } from './fixtures/rawClient';
import { healthy } from './fixtures/hostile';
import { probeLag, residentBytes, sleep } from './fixtures/probe';

let server: TestServer;

beforeAll(async () => {
  server = await startServer();
});

afterAll(async () => {
  await server?.stop();
});

/** Generous for two shared cores (as in hostile-work); the report was 20 s of silence. */
const LAG_MS = 2500;
const CHURN_MS = 6000;
const AFTER_MS = 5000;

let nextClientId = 8_000_000;
const state = (name: string) => ({ typing: true, user: { name }, cursor: { messageId: 'm1' } });

/** One socket: joins the document, says it is there, stays a moment, leaves. */
async function joinAndLeave(name: string, token: string): Promise<void> {
  const raw = await RawClient.connect(server.wsUrl);
  try {
    await raw.open(name, token);
    raw.send(frames.awareness(name, awarenessUpdate([{ clientId: nextClientId++, clock: 1, state: state('churn') }])));
    await sleep(20);
  } finally {
    raw.close();
    await raw.closed;
  }
}

/** One socket adding four states per message and removing them with the next (y-protocols: a null state). */
async function flickerStates(name: string, token: string, until: number): Promise<number> {
  const raw = await RawClient.connect(server.wsUrl);
  let states = 0;
  try {
    await raw.open(name, token);
    while (raw.isOpen && performance.now() < until) {
      const ids = [nextClientId++, nextClientId++, nextClientId++, nextClientId++];
      raw.send(frames.awareness(name, awarenessUpdate(ids.map((clientId) => ({ clientId, clock: 1, state: state('flicker') })))));
      raw.send(frames.awareness(name, awarenessUpdate(ids.map((clientId) => ({ clientId, clock: 2, state: null })))));
      states += ids.length;
      await sleep(1);
    }
  } finally {
    raw.close();
  }
  return states;
}

describe('awareness churn', () => {
  it('joins and leaves with presence states at the allowed rates, and /healthz keeps answering during and after', async () => {
    const name = conversationDocName(await createConversation(server, 'chu', ['hon']));
    const token = await server.token('chu');
    // The honest member stays the whole time: every join and leave is broadcast to it.
    const honest = await RawClient.connect(server.wsUrl);
    await honest.open(name, await server.token('hon'));
    const rssBefore = await residentBytes(server);

    const during = probeLag(server);
    const until = performance.now() + CHURN_MS;
    let joins = 0;
    // One socket is the flicker; the rest of the user's sockets churn.
    const churners = Array.from({ length: DEFAULTS.connectionsPerUser - 1 }, async () => {
      while (performance.now() < until) {
        await joinAndLeave(name, token).catch(() => undefined);
        joins++;
      }
    });
    const [flickered] = await Promise.all([flickerStates(name, token, until), ...churners]);
    const lagDuring = await during.stop();

    const after = probeLag(server);
    await sleep(AFTER_MS);
    const lagAfter = await after.stop();
    const rssAfter = await residentBytes(server);
    const awarenessFrames = honest.received.filter((m) => m.type === MessageType.awareness).length;
    console.log(
      `awareness churn: ${joins} joins and ${flickered} flickered states in ${CHURN_MS} ms; honest member got ${awarenessFrames} awareness frames; ` +
        `slowest /healthz during ${lagDuring.maxMs} ms (${lagDuring.probes} probes), after ${lagAfter.maxMs} ms (${lagAfter.probes} probes); ` +
        `rss ${Math.round(rssBefore / 2 ** 20)} -> ${Math.round(rssAfter / 2 ** 20)} MiB`,
    );
    expect(joins).toBeGreaterThan(50);
    expect(lagDuring.maxMs).toBeLessThan(LAG_MS);
    expect(lagAfter.maxMs).toBeLessThan(LAG_MS);
    expect(await healthy(server)).toBe(true);
    // The honest member is still served: a fresh join sees it and is answered at once.
    expect(honest.isOpen).toBe(true);
    honest.close();
  }, 60_000);
});
