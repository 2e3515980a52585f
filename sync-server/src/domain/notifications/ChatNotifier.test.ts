import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../logger';
import { createMetrics } from '../../metrics';
import type { Storage } from '../../storage/Storage';
import { SqliteStorage } from '../../storage/SqliteStorage';
import type { ServerWriter } from '../../sync/ServerWriter';
import { ChatNotifier } from './ChatNotifier';

/**
 * Two notifiers on one real store stand for two nodes of a cluster. The
 * conversation has no record, so a recompute reads the mark and the record,
 * then clears: what it touches is the mark, and no inbox (no writer needed).
 */
function node(storage: Storage, onRead: () => Promise<void> = async () => {}, markDelayMs = 0) {
  let recomputes = 0;
  // Counts recomputes that got past the mark: the record is read right after it.
  const conversations = new Proxy(storage.conversations, {
    get(target, key, receiver) {
      if (key !== 'get') return Reflect.get(target, key, receiver);
      return async (id: string) => {
        recomputes++;
        await onRead();
        return target.get(id);
      };
    },
  });
  // A slow group commit: the mark is stored a while after the change was scheduled.
  const work = new Proxy(storage.work, {
    get(target, key, receiver) {
      if (key !== 'mark') return Reflect.get(target, key, receiver);
      return async (id: string) => {
        await new Promise((resolve) => setTimeout(resolve, markDelayMs));
        return target.mark(id);
      };
    },
  });
  const parts: Partial<Record<keyof Storage, unknown>> = { conversations, work };
  const counted = new Proxy(storage, { get: (target, key, receiver) => (key in parts ? parts[key as keyof Storage] : Reflect.get(target, key, receiver)) });
  const notifier = new ChatNotifier({ storage: counted, writer: {} as ServerWriter, metrics: createMetrics(), logger: createLogger('silent') });
  return { notifier, recomputes: () => recomputes };
}

describe('ChatNotifier: one recompute per burst across nodes', () => {
  const stores: SqliteStorage[] = [];
  const open = () => {
    const storage = new SqliteStorage(':memory:');
    stores.push(storage);
    return storage;
  };
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()));
  });

  it('skips the recompute when another node already recomputed the burst and cleared its mark', async () => {
    const storage = open();
    const a = node(storage);
    const b = node(storage);
    await Promise.all([a.notifier.mark('c'), b.notifier.mark('c')]);
    a.notifier.schedule('c');
    await a.notifier.idle();
    expect(a.recomputes()).toBe(1);
    expect(await storage.work.all()).toEqual([]);
    b.notifier.schedule('c');
    await b.notifier.idle();
    expect(b.recomputes()).toBe(0);
  });

  it('leaves a mark bumped during the recompute, and the node that bumped it recomputes', async () => {
    const storage = open();
    let b: ReturnType<typeof node> | null = null;
    let bumped = false;
    // A change stored on the other node after this recompute read the mark.
    const a = node(storage, async () => {
      if (bumped) return;
      bumped = true;
      await b!.notifier.mark('c');
    });
    b = node(storage);
    await a.notifier.mark('c');
    a.notifier.schedule('c');
    await a.notifier.idle();
    expect(a.recomputes()).toBe(1);
    expect(await storage.work.version('c')).toBe(2);
    b.notifier.schedule('c');
    await b.notifier.idle();
    expect(b.recomputes()).toBe(1);
    expect(await storage.work.all()).toEqual([]);
  });

  it('waits for its own mark to be stored before taking "no mark" for "already done"', async () => {
    const storage = open();
    const a = node(storage, async () => {}, 50);
    // The update event schedules the recompute while the mark is still queued in the group commit.
    const marked = a.notifier.mark('c');
    a.notifier.schedule('c');
    await a.notifier.idle();
    await marked;
    expect(a.recomputes()).toBe(1);
    expect(await storage.work.all()).toEqual([]);
  });
});
