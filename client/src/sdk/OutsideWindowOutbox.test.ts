import { describe, expect, it } from 'vitest';
import type { Message } from '@parley/schema';
import { ApiError } from './ApiClient';
import { OutsideWindowOutbox, withChange, type OutboxRejection } from './OutsideWindowOutbox';

const message = { id: 'm1', text: 'x', reactions: {} } as unknown as Message;

/** An API whose edits answer 404 `missing` times, then succeed. */
function apiMissing(missing: number) {
  const calls: string[] = [];
  const api = {
    editMessage: async (_c: string, id: string, text: string) => {
      calls.push(`${id}:${text}`);
      if (calls.length <= missing) throw new ApiError(404, 'not_found', 'no such message');
      return { message };
    },
    deleteMessage: async () => ({ message }),
    setReaction: async () => ({ message }),
  };
  return { api, calls };
}

async function settle(outbox: OutsideWindowOutbox, flushes: number): Promise<void> {
  for (let i = 0; i < flushes; i++) await outbox.flush();
  outbox.stop();
}

describe('OutsideWindowOutbox', () => {
  it('drops a queued edit of a message that was deleted (its text must not wait on disk); other changes stay', async () => {
    const { api, calls } = apiMissing(0);
    const outbox = new OutsideWindowOutbox('t-drop-edit', false, api);
    outbox.stop(); // nothing sent meanwhile
    await outbox.enqueue('c1', 'm1', { op: 'edit', text: 'secret draft' });
    await outbox.enqueue('c1', 'm1', { op: 'reaction', emoji: '👍', on: true });
    await outbox.enqueue('c1', 'm2', { op: 'edit', text: 'another message' });
    await outbox.dropEdit('c1', 'm1');
    await outbox.dropEdit('c1', 'm9'); // nothing queued: nothing happens
    expect((await outbox.pending()).map((p) => [p.messageId, p.change.op])).toEqual([['m1', 'reaction'], ['m2', 'edit']]);
    expect(JSON.stringify(await outbox.pending())).not.toContain('secret draft');
    expect(outbox.waiting).toBe(2);
    expect(calls).toEqual([]);
  });

  it('changes queued in the same turn each get their own order (a send tells a replaced change by it)', async () => {
    const { api } = apiMissing(0);
    const outbox = new OutsideWindowOutbox('t-same-turn', false, api);
    outbox.stop();
    // Neither awaited before the next starts, as a renewal's replay and the user's own change can come.
    await Promise.all([
      outbox.enqueue('c1', 'm2', { op: 'edit', text: 'first' }),
      outbox.enqueue('c1', 'm1', { op: 'edit', text: 'second' }),
      outbox.enqueue('c1', 'm3', { op: 'delete' }),
    ]);
    const queued = await outbox.pending();
    expect(queued.map((q) => q.messageId)).toEqual(['m2', 'm1', 'm3']);
    expect(new Set(queued.map((q) => q.seq)).size).toBe(3);
  });

  it('shows a queued deletion as softDeleteMessage makes it: no text, files or mentions', () => {
    const full = { ...message, text: 'call me', attachments: [{ url: '/a', name: 'a.png', type: 'image/png', size: 1 }], mentions: ['bob'] } as Message;
    expect(withChange(full, 'ann', { op: 'delete' }, 5)).toMatchObject({ text: '', attachments: [], mentions: [], deletedAt: 5 });
    expect(withChange(message, 'ann', { op: 'delete' }, 5)).not.toHaveProperty('attachments');
  });


  it('retries a 404 a few times (an own message may be on its way again after a renewal), then sends once', async () => {
    const { api, calls } = apiMissing(3);
    const rejected: OutboxRejection[] = [];
    const outbox = new OutsideWindowOutbox('t-404-retry', false, api, { onRejected: (r) => rejected.push(r) });
    await outbox.enqueue('c1', 'm1', { op: 'edit', text: 'later' });
    await settle(outbox, 6);
    expect(rejected).toEqual([]);
    expect(calls).toEqual(['m1:later', 'm1:later', 'm1:later', 'm1:later']);
    expect(outbox.waiting).toBe(0);
  });

  it('takes a lasting 404 as a refusal: reported and dropped', async () => {
    const { api, calls } = apiMissing(Infinity);
    const rejected: OutboxRejection[] = [];
    const outbox = new OutsideWindowOutbox('t-404-refused', false, api, { onRejected: (r) => rejected.push(r) });
    await outbox.enqueue('c1', 'm1', { op: 'edit', text: 'never' });
    await settle(outbox, 10);
    expect(calls.length).toBe(5);
    expect(rejected.map((r) => [r.messageId, r.status])).toEqual([['m1', 404]]);
    expect(outbox.waiting).toBe(0);
  });

  it('keeps one change per message and kind: the newest edit replaces the queued one', async () => {
    const { api, calls } = apiMissing(0);
    const offlineOnce: typeof api.editMessage = async (...args) => {
      if (calls.length > 0) return api.editMessage(...args);
      calls.push('offline');
      throw new TypeError('fetch failed'); // what fetch throws with no network
    };
    const outbox = new OutsideWindowOutbox('t-replace', false, { ...api, editMessage: offlineOnce });
    await outbox.enqueue('c1', 'm1', { op: 'edit', text: 'first' });
    await outbox.enqueue('c1', 'm1', { op: 'edit', text: 'second' });
    await settle(outbox, 2);
    expect(calls).toEqual(['offline', 'm1:second']);
  });
});
