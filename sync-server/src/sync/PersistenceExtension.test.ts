import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import * as encoding from 'lib0/encoding';
import * as decoding from 'lib0/decoding';
import * as syncProtocol from 'y-protocols/sync';
import { appendMessage, readMessages } from '@parley/schema';
import { SqliteStorage } from '../storage/SqliteStorage';
import { createLogger } from '../logger';
import { createMetrics } from '../metrics';
import { PersistenceExtension } from './PersistenceExtension';
import { IncomingMessage, type afterLoadDocumentPayload, type beforeSyncPayload, type onLoadDocumentPayload } from '@hocuspocus/server';

/** An update Yjs throws on while applying: an item whose parent is its own client's future clock. */
function poisonedUpdate(client: number): Uint8Array {
  const encoder = new Y.UpdateEncoderV1();
  encoding.writeVarUint(encoder.restEncoder, 1);
  encoding.writeVarUint(encoder.restEncoder, 1);
  encoder.writeClient(client);
  encoding.writeVarUint(encoder.restEncoder, 0);
  new Y.Item(Y.createID(client, 0), null, null, null, null, Y.createID(client, 5), 'text', new Y.ContentAny(['x'])).write(encoder, 0);
  encoding.writeVarUint(encoder.restEncoder, 0);
  return encoder.toUint8Array();
}

describe('PersistenceExtension load', () => {
  it('a stored update that throws fails one load, then the document loads without it', async () => {
    const storage = new SqliteStorage(':memory:');
    const extension = new PersistenceExtension({ documents: storage.documents, metrics: createMetrics(), logger: createLogger('silent'), diverged: () => {}, mark: async () => {} });
    const source = new Y.Doc();
    appendMessage(source, { id: 'm1', author: 'a', text: 'kept' });
    await storage.documents.append('conversation:c', Y.encodeStateAsUpdate(source));
    await storage.documents.append('conversation:c', poisonedUpdate(424242));
    const load = (document: Y.Doc) => extension.onLoadDocument({ document, documentName: 'conversation:c' } as unknown as onLoadDocumentPayload);
    await expect(load(new Y.Doc())).rejects.toThrow();
    const second = new Y.Doc();
    await load(second);
    expect(readMessages(second).map((m) => m.text)).toEqual(['kept']);
  });
});

describe('PersistenceExtension beforeSync', () => {
  it("applies a client's update once: the frame Hocuspocus applies next is spent, and the update is stored", async () => {
    const storage = new SqliteStorage(':memory:');
    const extension = new PersistenceExtension({ documents: storage.documents, metrics: createMetrics(), logger: createLogger('silent'), diverged: () => {}, mark: async () => {} });
    const documentName = 'conversation:c';
    const document = new Y.Doc();
    const payloadOf = { document, documentName } as unknown as onLoadDocumentPayload & afterLoadDocumentPayload;
    await extension.onLoadDocument(payloadOf);
    await extension.afterLoadDocument(payloadOf);
    // A frame as Hocuspocus holds it: name, message type, sync type, then the update; the hook's payload is a view of it.
    const client = new Y.Doc();
    appendMessage(client, { id: 'm1', author: 'a', text: 'once' });
    const frame = encoding.createEncoder();
    encoding.writeVarString(frame, documentName);
    encoding.writeVarUint(frame, 0);
    syncProtocol.writeUpdate(frame, Y.encodeStateAsUpdate(client));
    const message = new IncomingMessage(encoding.toUint8Array(frame));
    message.readVarString();
    message.readVarUint();
    const type = message.readVarUint();
    await extension.beforeSync({ type, payload: message.peekVarUint8Array(), document, documentName, connection: {} } as unknown as beforeSyncPayload);
    expect(readMessages(document).map((m) => m.text)).toEqual(['once']);
    // What Hocuspocus does right after the hook: read the same bytes as an update and apply them.
    const rest = decoding.readVarUint8Array(message.decoder);
    expect(Y.decodeUpdate(rest)).toEqual({ structs: [], ds: { clients: new Map() } });
    const stored = await storage.documents.load(documentName);
    const reloaded = new Y.Doc();
    for (const part of stored.updates) Y.applyUpdate(reloaded, part);
    expect(readMessages(reloaded).map((m) => m.text)).toEqual(['once']);
  });
});
