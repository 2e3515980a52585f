import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
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
let nodes = 0;
function node(storage: Storage, onRead: () => Promise<void> = async () => {}, markDelayMs = 0, writer: ServerWriter = {} as ServerWriter) {
  let recomputes = 0;
  const name = `node-${++nodes}`;
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
  const metrics = createMetrics();
  const counted = new Proxy(storage, { get: (target, key, receiver) => (key in parts ? parts[key as keyof Storage] : Reflect.get(target, key, receiver)) });
  const notifier = new ChatNotifier({ storage: counted, writer, metrics, logger: createLogger('silent'), node: name });
  const outcomes = async (): Promise<Record<string, number>> =>
    Object.fromEntries((await metrics.chatRecomputes.get()).values.map((v) => [String(v.labels.outcome), v.value]));
  return { notifier, recomputes: () => recomputes, outcomes };
}

/** Inboxes as plain documents in memory: enough for a recompute that reads and writes them. */
function inboxes(): ServerWriter {
  const docs = new Map<string, Y.Doc>();
  const doc = (name: string) => docs.get(name) ?? docs.set(name, new Y.Doc()).get(name)!;
  const access = async <T>(name: string, use: (d: Y.Doc) => T): Promise<T> => use(doc(name));
  return { read: access, write: access } as unknown as ServerWriter;
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

  it('leaves a mark bumped during the recompute, and recomputes it again itself (the other node finds nothing left)', async () => {
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
    expect(a.recomputes()).toBe(2);
    expect(await storage.work.all()).toEqual([]);
    b.notifier.schedule('c');
    await b.notifier.idle();
    expect(b.recomputes()).toBe(0);
  });

  it('runs one recompute when two nodes start one at once: the other finds the claim and leaves the burst to its holder', async () => {
    const storage = open();
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let b: ReturnType<typeof node> | null = null;
    // While node A recomputes, node B stores a change of its own and schedules its recompute.
    let changed = false;
    const a = node(storage, async () => {
      if (changed) return;
      changed = true;
      await b!.notifier.mark('c');
      b!.notifier.schedule('c');
      await b!.notifier.idle();
      await held;
    });
    b = node(storage);
    await a.notifier.mark('c');
    a.notifier.schedule('c');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(b.recomputes()).toBe(0);
    expect(await b.outcomes()).toEqual({ busy: 1 });
    release();
    await a.notifier.idle();
    // The holder saw the change B stored during its run and went on with it itself.
    expect(a.recomputes()).toBe(2);
    expect(await a.outcomes()).toEqual({ ran: 2 });
    expect(await storage.work.all()).toEqual([]);
    await a.notifier.stop();
    await b.notifier.stop();
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

  it('lets go of its claim when a recompute fails: another node takes the burst at once, not when the claim runs out', async () => {
    const storage = open();
    const a = node(storage, async () => {
      throw new Error('the index is unreadable');
    });
    const b = node(storage);
    await a.notifier.mark('c');
    a.notifier.schedule('c');
    await a.notifier.idle();
    expect(await a.outcomes()).toEqual({ ran: 1 });
    // The mark stays (the burst is not done); the claim does not.
    expect(await storage.work.all()).toEqual(['c']);
    b.notifier.schedule('c');
    await b.notifier.idle();
    expect(await b.outcomes()).toEqual({ ran: 1 });
    expect(b.recomputes()).toBe(1);
    expect(await storage.work.all()).toEqual([]);
  });

  it('hands the claim of a burst waiting out its grace to the others when it stops', async () => {
    const storage = open();
    await storage.conversations.create({
      id: 'c', kind: 'group', title: 'c', createdBy: 'ann', createdAt: 1, ref: null, directKey: null,
      members: [{ userId: 'ann', role: 'owner', joinedAt: 1 }, { userId: 'bob', role: 'member', joinedAt: 1 }],
    });
    await storage.messages.write({ conversationId: 'c', messages: [{ id: 'm1', author: 'ann', kind: 'text', text: 'hi', createdAt: Date.now(), reactions: {} }], reads: [] });
    // Bob's notification about m1 waits out its grace: A keeps the mark and its claim meanwhile.
    const a = node(storage, async () => {}, 0, inboxes());
    const b = node(storage, async () => {}, 0, inboxes());
    await a.notifier.mark('c');
    a.notifier.schedule('c');
    await a.notifier.idle();
    b.notifier.schedule('c');
    await b.notifier.idle();
    expect(await b.outcomes()).toEqual({ busy: 1 });
    await a.notifier.stop();
    b.notifier.schedule('c');
    await b.notifier.idle();
    expect(await b.outcomes()).toEqual({ busy: 1, ran: 1 });
    expect(b.recomputes()).toBe(1);
    await b.notifier.stop();
  });
});
