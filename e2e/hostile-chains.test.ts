/**
 * Updates built to make validation walk far: thousands of items, each from its
 * own Yjs client id and each placed next to the one before, so finding where
 * the first one sits means walking the whole chain; and two items placed next
 * to each other, a chain with no end. Both used to overflow the validator's
 * recursion: the socket was reset instead of the update refused. Now each is
 * refused with its reason, on that document only, and the server carries on.
 */
import * as Y from 'yjs';
import * as encoding from 'lib0/encoding';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UpdateRejection, appendMessage, conversationDocName } from '@parley/schema';
import { startServer, type TestServer } from './fixtures/server';
import { createConversation } from './fixtures/clients';
import { RawClient } from './fixtures/rawClient';
import { healthy } from './fixtures/hostile';

let server: TestServer;

beforeAll(async () => {
  server = await startServer();
});

afterAll(async () => {
  await server?.stop();
});

/** As many client ids as one user may own in a document (DEFAULTS.clientIdsMaxPerUserPerDocument). */
const CHAIN = 10_000;

/** Encodes single-item structs, one per client, in the order given (Yjs writes clients in descending id order). */
function encodeItems(items: Y.Item[]): Uint8Array {
  const encoder = new Y.UpdateEncoderV1();
  encoding.writeVarUint(encoder.restEncoder, items.length);
  for (const item of items) {
    encoding.writeVarUint(encoder.restEncoder, 1);
    encoder.writeClient(item.id.client);
    encoding.writeVarUint(encoder.restEncoder, item.id.clock);
    item.write(encoder, 0);
  }
  encoding.writeVarUint(encoder.restEncoder, 0); // empty delete set
  return encoder.toUint8Array();
}

const itemAfter = (client: number, origin: Y.ID | null, parent: string | null) =>
  new Y.Item(Y.createID(client, 0), null, origin, null, null, parent as never, null, new Y.ContentAny([client]));

/**
 * `length` items in `messages`, item i written by client id `base + i` right
 * after item i-1; written from the end of the chain, so the validator meets it first.
 */
function chainUpdate(length: number, base: number): Uint8Array {
  const items = Array.from({ length }, (_, i) => itemAfter(base + i, i === 0 ? null : Y.createID(base + i - 1, 0), i === 0 ? 'messages' : null));
  return encodeItems(items.reverse());
}

/** Two new items, each placed right after the other: nothing anchors either to a parent. */
const cycleUpdate = (a: number, b: number): Uint8Array => encodeItems([itemAfter(b, Y.createID(a, 0), null), itemAfter(a, Y.createID(b, 0), null)]);

async function openConversation(user: string) {
  const name = conversationDocName(await createConversation(server, user, ['hal']));
  const raw = await RawClient.connect(server.wsUrl);
  const doc = await raw.open(name, await server.token(user));
  return { name, raw, doc };
}

describe('updates that chain items', () => {
  it(`refuses ${CHAIN} items chained across as many client ids with a reason, and the socket and server carry on`, async () => {
    const { raw, doc } = await openConversation('cora');
    try {
      const verdict = await doc.send(chainUpdate(CHAIN, 5_000_000));
      // The chain of plain numbers is no message list: refused for what it holds, not for its depth.
      expect(verdict).toEqual({ refused: UpdateRejection.invalidMessage });
      expect(raw.isOpen).toBe(true);
      expect(await healthy(server)).toBe(true);
      // The same socket still writes honestly to the document after reopening it.
      const again = await raw.open(doc.name, await server.token('cora'));
      const honest = again.change((d) => appendMessage(d, { id: 'after-chain', author: 'cora', text: 'still here' }));
      expect(await again.send(honest)).toEqual({ applied: true });
    } finally {
      raw.close();
    }
  }, 60_000);

  it('refuses two items placed next to each other (a chain with no end) as a missing dependency', async () => {
    const { raw, doc } = await openConversation('cyd');
    try {
      expect(await doc.send(cycleUpdate(6_000_001, 6_000_002))).toEqual({ refused: UpdateRejection.missingDependency });
      expect(raw.isOpen).toBe(true);
      expect(await healthy(server)).toBe(true);
    } finally {
      raw.close();
    }
  }, 30_000);
});
