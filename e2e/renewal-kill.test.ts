/**
 * `kill -9` in the middle of a window move loses nothing (issue 9, item 2).
 * The server is stopped with SIGKILL at two points of a renewal
 * (TEST_KILL_IN_RENEWAL, test servers only): after the renewal was queued
 * but before its transaction committed, and right after it committed, before
 * any connection was closed. After a restart every message the server
 * acknowledged is in the history exactly once, and the live document opens,
 * bounded, with no duplicate.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { appendMessage, conversationDocName, readEpoch, readMessages } from '@parley/schema';
import { startServer, tempDataDir, type TestServer } from './fixtures/server';
import { connectUser, createConversation, historyIds, waitFor, type UserClient } from './fixtures/clients';

const WINDOW = 20;
const started: TestServer[] = [];
const clients: UserClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  for (const s of started.splice(0)) await s.stop().catch(() => null);
});

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe.each(['before-commit', 'after-commit'] as const)('kill -9 %s of a renewal', (point) => {
  it('loses no acknowledged message and leaves a bounded live document without duplicates', async () => {
    const dataDir = tempDataDir();
    const env = { JWT_SECRET: `kill-renewal-secret-${Math.random().toString(36).slice(2)}-0123456789`, LIVE_WINDOW_MESSAGES: String(WINDOW) };
    const first = await startServer({ dataDir, env: { ...env, TEST_KILL_IN_RENEWAL: point } });
    started.push(first);
    const id = await createConversation(first, 'ka', ['kb']);
    const writer = await connectUser(first, 'ka');
    clients.push(writer);
    const open = writer.open(conversationDocName(id));
    await open.synced;
    const acknowledged: string[] = [];
    // One message at a time, each awaited: the ones acknowledged before the kill must all survive it.
    for (let i = 1; i <= 3 * WINDOW && alive(first.pid); i++) {
      appendMessage(open.doc, { id: `k${i}`, author: 'ka', text: `kill line ${i}` });
      const acked = await waitFor(() => open.provider.unsyncedChanges === 0, 3_000, 'ack').then(
        () => true,
        () => false,
      );
      if (acked && alive(first.pid)) acknowledged.push(`k${i}`);
      if (!acked) break;
    }
    await waitFor(() => !alive(first.pid), 10_000, 'the server to die in the renewal');
    expect(acknowledged.length).toBeGreaterThan(2 * WINDOW - 5);
    writer.destroy();

    const second = await startServer({ dataDir, env });
    started.push(second);
    const stored = await historyIds(second, id, 'kb');
    expect(new Set(stored).size).toBe(stored.length);
    expect(stored).toEqual(expect.arrayContaining(acknowledged));

    // The reopened document renews on load when it still holds the old epoch (killed before the
    // commit): read it once that happened, however long a loaded machine takes.
    let ids: string[] = [];
    let epoch = 0;
    const deadline = Date.now() + 30_000;
    let reader = await connectUser(second, 'kb');
    let view = reader.open(conversationDocName(id));
    for (;;) {
      clients.push(reader);
      await view.synced;
      epoch = readEpoch(view.doc);
      if (epoch >= 1 || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
      reader = await connectUser(second, 'kb');
      view = reader.open(conversationDocName(id));
    }
    ids = readMessages(view.doc).map((m) => m.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBeLessThanOrEqual(2 * WINDOW);
    expect(stored).toEqual(expect.arrayContaining(ids));
    expect(epoch).toBeGreaterThanOrEqual(1);
    // The live window holds the newest acknowledged messages.
    expect(ids).toContain(acknowledged.at(-1));
  }, 60_000);
});
