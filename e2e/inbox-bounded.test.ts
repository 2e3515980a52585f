/**
 * The bounded inbox (issue 9): settled notifications leave `inbox:<userId>`
 * for the SQL archive at the clean-up, the document stays bounded however
 * many notifications a user had, and the API still pages every one of them
 * and marks old ones read and unread.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { DEFAULTS, inboxDocName, listNotifications, type Notification } from '@parley/schema';
import { startServer, type TestServer } from './fixtures/server';
import { RawClient } from './fixtures/rawClient';
import { eventually, nodeSession } from '../client/src/testing/nodeClient';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.stop();
});

const BATCH = 260; // more than DEFAULTS.inboxSettledMax (200): some move out in the first round, all of the second

/** What a new device downloads of the inbox: its encoded size and its notifications. */
async function inboxAsNewDevice(userId: string): Promise<{ bytes: number; notifications: Notification[] }> {
  const client = await RawClient.connect(server.wsUrl);
  try {
    const raw = await client.open(inboxDocName(userId), await server.token(userId));
    return { bytes: Y.encodeStateAsUpdate(raw.doc).byteLength, notifications: listNotifications(raw.doc) };
  } finally {
    client.close();
  }
}

async function notify(userId: string, from: number, count: number): Promise<void> {
  const service = await server.token('shop', { roles: ['service'] });
  const token = await server.token(userId);
  const post = async (i: number) => {
    const body = { id: `${userId}-${i}`, type: 'review.created', occurredAt: new Date().toISOString(), subject: { type: 'review', id: `r${i}` }, recipients: [userId], data: { rating: 5 } };
    expect((await server.api('/api/events', { token: service, body })).status).toBe(202);
  };
  for (let i = from; i < from + count; i += 20) await Promise.all(Array.from({ length: Math.min(20, from + count - i) }, (_, k) => post(i + k)));
  const deadline = Date.now() + 60_000;
  while ((await server.api('/api/notifications/unread-count', { token })).body.count < count) {
    if (Date.now() > deadline) throw new Error('notifications did not arrive');
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function allPages(token: string, query: string): Promise<Notification[]> {
  const all: Notification[] = [];
  let cursor: string | null = null;
  do {
    const page: { status: number; body: { notifications: Notification[]; nextCursor: string | null } } = await server.api(
      `/api/notifications?${query}&limit=50${cursor ? `&cursor=${cursor}` : ''}`,
      { token },
    );
    expect(page.status).toBe(200);
    all.push(...page.body.notifications);
    cursor = page.body.nextCursor;
  } while (cursor);
  return all;
}

const cleanup = async () => (await server.api('/api/admin/cleanup', { token: await server.token('root', { roles: ['admin'] }), method: 'POST' })).body;

describe('the bounded inbox document', () => {
  it('moves settled notifications out at the clean-up; the document stays bounded, the API pages all of them', async () => {
    const user = 'joe';
    const token = await server.token(user);
    await notify(user, 0, BATCH);
    const full = await inboxAsNewDevice(user);
    expect(full.notifications).toHaveLength(BATCH);
    await server.api('/api/notifications/read-all', { token, method: 'POST' });
    const first = await cleanup();
    expect(first.notificationsMoved).toBe(BATCH - DEFAULTS.inboxSettledMax);
    const afterFirst = await inboxAsNewDevice(user);
    expect(afterFirst.notifications).toHaveLength(DEFAULTS.inboxSettledMax);

    // Twice as many notifications in all: the document a new device loads stays about the same.
    await notify(user, BATCH, BATCH);
    await server.api('/api/notifications/read-all', { token, method: 'POST' });
    expect((await cleanup()).notificationsMoved).toBe(BATCH);
    const afterSecond = await inboxAsNewDevice(user);
    expect(afterSecond.notifications).toHaveLength(DEFAULTS.inboxSettledMax);
    console.log(`inbox bytes: ${BATCH} live ${full.bytes}; after round 1 ${afterFirst.bytes}; after round 2 (${2 * BATCH} in all) ${afterSecond.bytes}`);
    // Twice the notifications, a smaller document than the first batch alone had.
    expect(afterSecond.bytes).toBeLessThan(full.bytes);
    // What a moved-out notification leaves behind (a deleted map key) is a small fraction of the notification.
    expect(afterSecond.bytes - afterFirst.bytes).toBeLessThan(full.bytes * 0.2);

    // Every notification, once, newest first, from the document and the archive.
    const all = await allPages(token, 'archived=1');
    expect(all).toHaveLength(2 * BATCH);
    expect(new Set(all.map((n) => n.id)).size).toBe(2 * BATCH);
    for (let i = 1; i < all.length; i++) {
      const [a, b] = [all[i - 1]!, all[i]!];
      expect(a.updatedAt > b.updatedAt || (a.updatedAt === b.updatedAt && a.id > b.id)).toBe(true);
    }
    expect(await allPages(token, 'unread=1')).toEqual([]);
    expect((await server.api('/api/notifications/unread-count', { token })).body.count).toBe(0);
    // A second clean-up finds nothing to move.
    expect((await cleanup()).notificationsMoved).toBe(0);
  }, 180_000);

  it('renews the inbox once the tombstones of moved notifications pass their bound: its size stays flat, an offline mark survives', async () => {
    const user = 'kim';
    const token = await server.token(user);
    const sizes: number[] = [];
    const session = nodeSession(server, user);
    try {
      await session.start();
      for (let round = 0; round < 4; round++) {
        await notify(user, round * BATCH, BATCH);
        await server.api('/api/notifications/read-all', { token, method: 'POST' });
        if (round === 3) {
          // One unread notification, marked read by a device that is offline while the inbox is renewed.
          await notify(user, 4 * BATCH, 1);
          await eventually(() => session.inbox.snapshot().unreadCount === 1, 20_000, 'the device sees the unread one');
          session.goOffline();
          const unread = session.inbox.snapshot().notifications.find((n) => n.readAt === null)!;
          expect(session.inbox.markRead(unread.id)).toBe(true);
        }
        await cleanup();
        sizes.push((await inboxAsNewDevice(user)).bytes);
      }
      console.log(`inbox bytes after each round of ${BATCH} moved out: ${sizes.join(', ')}`);
      // Without renewal every moved notification adds ~30 bytes: 3 more rounds would add ~23 KB.
      for (const size of sizes.slice(1)) expect(size - sizes[0]!).toBeLessThan(DEFAULTS.inboxTombstoneBytesMax);
      expect(server.output()).toMatch(new RegExp(`"documentName":"${inboxDocName(user)}"[^\n]*live document renewed`));

      session.goOnline();
      await eventually(async () => (await server.api('/api/notifications/unread-count', { token })).body.count === 0, 30_000, 'the offline mark lands after the renewal');
      await eventually(() => session.connection().state === 'synced' && session.inbox.snapshot().unreadCount === 0, 30_000, 'the device synced on the new inbox');
      expect(await allPages(token, 'archived=1')).toHaveLength(4 * BATCH + 1);
    } finally {
      await session.destroy();
    }
  }, 300_000);

  it('marks an archived notification unread (back into the document, counted) and read again', async () => {
    const user = 'ann';
    const token = await server.token(user);
    await notify(user, 0, DEFAULTS.inboxSettledMax + 20);
    await server.api('/api/notifications/read-all', { token, method: 'POST' });
    expect((await cleanup()).notificationsMoved).toBeGreaterThanOrEqual(20);
    const inDocument = new Set((await inboxAsNewDevice(user)).notifications.map((n) => n.id));
    const old = (await allPages(token, 'archived=1')).find((n) => !inDocument.has(n.id))!;
    expect(old).toBeDefined();

    expect((await server.api(`/api/notifications/${old.id}/unread`, { token, method: 'POST' })).status).toBe(200);
    expect((await server.api('/api/notifications/unread-count', { token })).body.count).toBe(1);
    expect((await allPages(token, 'unread=1')).map((n) => n.id)).toEqual([old.id]);
    const back = (await inboxAsNewDevice(user)).notifications.find((n) => n.id === old.id);
    expect(back).toMatchObject({ id: old.id, readAt: null, title: old.title, body: old.body, createdAt: old.createdAt });
    const listed = await allPages(token, 'archived=1');
    expect(listed.filter((n) => n.id === old.id)).toHaveLength(1);

    expect((await server.api(`/api/notifications/${old.id}/read`, { token, method: 'POST' })).status).toBe(200);
    expect((await server.api('/api/notifications/unread-count', { token })).body.count).toBe(0);

    // Archiving one that lives in the archive: it leaves the default list, stays with archived=1.
    const other = (await allPages(token, 'archived=1')).find((n) => !inDocument.has(n.id) && n.id !== old.id)!;
    expect((await server.api(`/api/notifications/${other.id}/archive`, { token, method: 'POST' })).status).toBe(200);
    expect((await allPages(token, 'archived=0')).some((n) => n.id === other.id)).toBe(false);
    expect((await allPages(token, 'archived=1')).some((n) => n.id === other.id && n.archivedAt !== null)).toBe(true);
    expect((await server.api('/api/notifications/nope/read', { token, method: 'POST' })).status).toBe(404);
  }, 120_000);

  it('answers bad paging input with the contract 400 (never a 500), over document and archive alike', async () => {
    const token = await server.token('joe'); // has notifications in the document and in the archive (first test)
    const bad = [
      'limit=0',
      `limit=${DEFAULTS.notificationsPageMax + 1}`,
      'limit=99999999999999999999',
      'limit=ten',
      'cursor=garbage',
      `cursor=${Buffer.from('Infinity\nx').toString('base64url')}`,
      `cursor=${'x'.repeat(201)}`,
      'unread=maybe',
      'page=2',
    ];
    for (const query of bad) {
      const answer = await server.api(`/api/notifications?${query}`, { token });
      expect(answer.status, query).toBe(400);
      expect(answer.body.error.code, query).toEqual(expect.any(String));
    }
    // A cursor this API gave out keeps working after its notification moved to the archive.
    const first = await server.api('/api/notifications?archived=1&limit=5', { token });
    const next = await server.api(`/api/notifications?archived=1&limit=5&cursor=${first.body.nextCursor}`, { token });
    expect(next.status).toBe(200);
    expect(next.body.notifications).toHaveLength(5);
  });
});
