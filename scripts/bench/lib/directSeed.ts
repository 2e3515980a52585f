/**
 * Seeds a long Parley history without the WebSocket (1M messages through it
 * take longer than a bench run may): the older messages go straight into a
 * stopped server's message index, through the index's own write code
 * (`SqliteMessageIndex.write`, the rows and FTS5 entries the write pipeline
 * makes), as if renewals had moved them out of the live document. The caller
 * then writes the newest messages through the WebSocket, so the live
 * document is what renewals leave: the newest window, epoch 1 or more.
 * Not the same as a real history in one respect: the retired client ids of
 * the skipped renewals are not there (one indexed lookup at sync step 1
 * either way).
 */
import { SqliteStorage } from '../../../sync-server/src/storage/SqliteStorage';
import type { IndexableMessage } from '../../../sync-server/src/storage/Storage';

const BATCH = 10_000;

/** Writes messages 0..count-1 (ids `${prefix}-${i}`) as the conversation's oldest; resolves when durable. */
export async function seedIndexDirectly(dataDir: string, conversationId: string, author: string, count: number, text: (i: number) => string): Promise<void> {
  const storage = SqliteStorage.inDataDir(dataDir);
  try {
    const t0 = Date.now() - count;
    for (let from = 0; from < count; from += BATCH) {
      const messages: IndexableMessage[] = [];
      for (let i = from; i < Math.min(count, from + BATCH); i++) messages.push({ id: `d${conversationId}-${i}`, author, kind: 'text', text: text(i), createdAt: t0 + i, reactions: {} });
      await storage.messages.write({ conversationId, messages, reads: [] });
    }
  } finally {
    await storage.close();
  }
}
