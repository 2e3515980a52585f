/**
 * A provider destroyed while its socket is closing must not close the
 * document for the provider that replaces it on the next connection. Provider
 * 4.8 queues what is sent on a socket that is not open (the destroyed
 * provider's CLOSE among it) and sends the queue after the next connection's
 * first answer, i.e. after the new provider's authentication and sync: the
 * server then closed the new provider's document (`provider_initiated`) and
 * that replica never synced again. This is what made the renewal fuzz stall
 * (seeds 11 and 33 under load: the server closes a socket right after
 * `document-renewed` when the old replica's in-flight update meets the sealed
 * document). Real server, real WebSockets.
 */
import * as encoding from 'lib0/encoding';
import * as decoding from 'lib0/decoding';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HocuspocusProviderWebsocket } from '@hocuspocus/provider';
import * as Y from 'yjs';
import { conversationDocName } from '@parley/schema';
import { startServer, type TestServer } from '../../../e2e/fixtures/server';
import { createConversation } from '../../../e2e/fixtures/clients';
import { NodeWebSocket, eventually } from '../testing/nodeClient';
import { AttachGate } from './AttachGate';
import { ParleyProvider } from './ParleyProvider';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
}, 30_000);
afterAll(async () => {
  await server?.stop();
});

/** A conversation of `user`'s, a socket to the server, and a maker of ParleyProviders for it on that socket. */
async function providerSetup(user: string, other: string) {
  const id = await createConversation(server, user, [other]);
  const name = conversationDocName(id);
  const token = await server.token(user);
  const socket = new HocuspocusProviderWebsocket({ url: server.wsUrl, WebSocketPolyfill: NodeWebSocket, minDelay: 50, maxDelay: 200 });
  const gate = new AttachGate(10);
  socket.on('disconnect', () => gate.reset());
  const provider = (doc: Y.Doc) => new ParleyProvider({ name, document: doc, websocketProvider: socket, token: async () => token }, gate);
  return { name, socket, provider };
}

describe('ParleyProvider.destroy on a closing socket', () => {
  it('leaves nothing queued that closes the next provider of the same document', async () => {
    const { socket, provider } = await providerSetup('ppa', 'ppb');
    try {
      const first = provider(new Y.Doc());
      first.attach();
      await eventually(() => first.isSynced, 20_000, 'the first provider synced');

      // The socket starts closing (readyState CLOSING), and the replica is rebuilt meanwhile.
      const closed = new Promise<void>((resolve) => socket.on('disconnect', () => resolve()));
      socket.webSocket!.close();
      first.destroy();
      await closed;
      const second = provider(new Y.Doc());
      const closes: string[] = [];
      second.on('close', ({ event }: { event: { reason?: string } }) => closes.push(event.reason ?? ''));
      second.attach();
      await eventually(() => second.isSynced, 20_000, 'the second provider synced on the next connection');
      // The server answers a CLOSE within a few turns; give it ample time.
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect(closes).toEqual([]);
      expect(second.isAuthenticated && second.isSynced).toBe(true);
      second.destroy();
    } finally {
      socket.destroy();
    }
  }, 60_000);
});

/** A frame's document name and, for a Sync frame (0), its sync type (0 step 1, 1 step 2, 2 update). */
function syncTypeOf(frame: unknown): { doc: string; sync: number | null } | null {
  if (!(frame instanceof Uint8Array)) return null;
  const decoder = decoding.createDecoder(frame);
  const doc = decoding.readVarString(decoder);
  return { doc, sync: decoding.readVarUint(decoder) === 0 ? decoding.readVarUint(decoder) : null };
}

describe('ParleyProvider on a closing socket', () => {
  it('answers a sync step 1 with nothing queued for the next connection (its answer would acknowledge that connection’s changes)', async () => {
    const { name, socket, provider: providerFor } = await providerSetup('ppc', 'ppd');
    const doc = new Y.Doc();
    const provider = providerFor(doc);
    try {
      provider.attach();
      await eventually(() => provider.isSynced, 20_000, 'synced');
      doc.getArray('scratch').push(['made before the close']);

      // The socket starts closing; a server's sync step 1 read just before is answered now.
      socket.webSocket!.close();
      const stepOne = encoding.createEncoder();
      encoding.writeVarString(stepOne, name);
      encoding.writeVarUint(stepOne, 0);
      encoding.writeVarUint(stepOne, 0);
      encoding.writeVarUint8Array(stepOne, Y.encodeStateVector(new Y.Doc()));
      provider.onMessage({ data: encoding.toUint8Array(stepOne) } as MessageEvent);

      const queued = ((socket as unknown as { messageQueue: unknown[] }).messageQueue ?? []).map(syncTypeOf);
      expect(queued.filter((frame) => frame?.doc === name && frame.sync === 1)).toEqual([]);
      expect(provider.handshakeComplete).toBe(false);
    } finally {
      provider.destroy();
      socket.destroy();
    }
  }, 60_000);
});
