/**
 * A socket the server closes for its rate (4429 `rate-limited`) refused
 * nothing: the SDK keeps every local replica and reconnects after a back-off,
 * instead of wiping and rebuilding every document as if an update had been refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HocuspocusProviderWebsocket } from '@hocuspocus/provider';
import * as encoding from 'lib0/encoding';
import { CloseCode, DEFAULTS, UpdateRejection, inboxDocName } from '@parley/schema';
import { startServer, type TestServer } from '../../../e2e/fixtures/server';
import { eventually, nodeSession } from '../testing/nodeClient';
import type { Session } from './Session';

let server: TestServer;
const sessions: Session[] = [];

beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await Promise.all(sessions.map((s) => s.destroy()));
  await server?.stop();
});

/** A sync step 1 for a document: the server answers each, so it counts against the socket's rate. */
function step1(doc: string): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeVarString(e, doc);
  encoding.writeVarUint(e, 0);
  encoding.writeVarUint(e, 0);
  encoding.writeVarUint8Array(e, new Uint8Array([0]));
  return encoding.toUint8Array(e);
}

describe('a socket closed for its rate', () => {
  it('reconnects after a back-off and keeps every replica (no reset)', async () => {
    const alice = nodeSession(server, 'rita');
    sessions.push(alice);
    await alice.start();
    await alice.whenSynced();
    const id = await alice.startDirect('ravi');
    const chat = alice.conversation(id);
    await alice.whenSynced();
    const sent = chat.send('before the flood');
    await eventually(() => chat.snapshot().messages.some((m) => m.id === sent && m.status === 'sent'), 10_000, 'sent');
    const resets: string[] = [];
    chat.replica.on('reset', () => resets.push(chat.replica.name));
    const socket = (alice as unknown as { socket: HocuspocusProviderWebsocket }).socket;
    const ws = socket.webSocket as unknown as { send(data: Uint8Array): void; readyState: number; bufferedAmount: number; once(e: string, f: (code: number) => void): void };
    const closed = new Promise<number>((resolve) => ws.once('close', resolve));
    // Flood this socket past the rate until the server closes it.
    const frame = step1(inboxDocName('rita'));
    const start = Date.now();
    let closedAt = 0;
    void closed.then(() => (closedAt = Date.now()));
    while (ws.readyState === 1 && Date.now() - start < DEFAULTS.throttleMaxMs + 8000) {
      if (ws.bufferedAmount < 256 * 1024) for (let i = 0; i < 500; i++) ws.send(frame);
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(await closed).toBe(CloseCode.rateLimited);
    // Back online on a new socket, synced, after at least the back-off.
    await eventually(() => socket.webSocket !== (ws as unknown) && alice.connection().state === 'synced', 20_000, 'synced again');
    const reconnectedAfter = Date.now() - closedAt;
    console.log(`4429: reconnected and synced ${reconnectedAfter} ms after the close; errors ${JSON.stringify(alice.errors)}`);
    expect(reconnectedAfter).toBeGreaterThanOrEqual(DEFAULTS.clientRateLimitedBackoffMs - 100);
    expect(resets).toEqual([]);
    expect(alice.errors.filter((e) => e.recovery === 'replica-reset')).toEqual([]);
    expect(chat.snapshot().messages.find((m) => m.id === sent)?.status).toBe('sent');
  }, 60_000);

  it('a refused update is reported with the close code it stands for (4403), not the provider\'s 1000', async () => {
    const sam = nodeSession(server, 'sami');
    sessions.push(sam);
    await sam.start();
    const id = await sam.startDirect('sara');
    const chat = sam.conversation(id);
    await sam.whenSynced();
    // `meta` is written by the server only.
    chat.replica.doc.getMap('meta').set('title', 'mine now');
    await eventually(() => sam.errors.some((e) => e.docName === chat.replica.name), 10_000, 'the refusal');
    expect(sam.errors.find((e) => e.docName === chat.replica.name)).toMatchObject({
      reason: UpdateRejection.serverOnly,
      code: CloseCode.rejectedUpdate,
      recovery: 'replica-reset',
    });
  }, 30_000);
});
