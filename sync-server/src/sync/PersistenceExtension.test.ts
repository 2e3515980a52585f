import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import * as encoding from 'lib0/encoding';
import { appendMessage, readMessages } from '@parley/schema';
import { SqliteStorage } from '../storage/SqliteStorage';
import { createLogger } from '../logger';
import { createMetrics } from '../metrics';
import { PersistenceExtension } from './PersistenceExtension';
import type { onLoadDocumentPayload } from '@hocuspocus/server';

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
