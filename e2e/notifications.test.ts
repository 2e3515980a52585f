import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendMessage, conversationDocName, editMessage, inboxDocName, inboxParts, listNotifications, readMessages, setRead, type Notification } from '@parley/schema';
import { startServer, type TestServer } from './fixtures/server';
import { connectUser, waitFor } from './fixtures/clients';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server.stop();
});

const chatNotifications = (list: Notification[], conversationId: string) =>
  list.filter((n) => n.kind === 'new_message' && n.data.conversationId === conversationId);

describe('chat messages become notifications', () => {
  it('one unread notification per burst, updated in place, cleared by reading; muted gives none', async () => {
    const tokenA = await server.token('ann', { name: 'Ann' });
    const tokenB = await server.token('ben', { name: 'Ben' });
    const { body } = await server.api('/api/conversations', { token: tokenA, body: { members: ['ben'], title: 'Kitchen' } });
    const id = body.id as string;
    const ann = await connectUser(server, 'ann', { token: tokenA });
    const ben = await connectUser(server, 'ben', { token: tokenB });
    try {
      const a = ann.open(conversationDocName(id));
      const b = ben.open(conversationDocName(id));
      const inbox = ben.open(inboxDocName('ben'));
      await Promise.all([a.synced, b.synced, inbox.synced]);

      appendMessage(a.doc, { id: 'k1', author: 'ann', text: 'first' });
      await waitFor(() => chatNotifications(listNotifications(inbox.doc), id).length === 1, 5000, 'first notification');
      const first = chatNotifications(listNotifications(inbox.doc), id)[0]!;
      expect(first).toMatchObject({ kind: 'new_message', count: 1, body: 'first', readAt: null, data: { conversationId: id, actor: 'ann' } });
      expect(first.title).toContain('Ann');
      expect(inboxParts(inbox.doc).conversations.get(id)).toMatchObject({ title: 'Kitchen', unread: 1, lastMessage: { author: 'ann', text: 'first' } });

      for (let i = 2; i <= 6; i++) appendMessage(a.doc, { id: `k${i}`, author: 'ann', text: `message ${i}` });
      await waitFor(() => chatNotifications(listNotifications(inbox.doc), id)[0]?.count === 6, 5000, 'count 6');
      expect(chatNotifications(listNotifications(inbox.doc), id)).toHaveLength(1);
      expect(chatNotifications(listNotifications(inbox.doc), id)[0]!.body).toBe('message 6');
      expect((await server.api('/api/notifications/unread-count', { token: tokenB })).body).toEqual({ count: 1 });
      expect(inboxParts(inbox.doc).conversations.get(id)?.unread).toBe(6);

      await waitFor(() => readMessages(b.doc).length === 6, 5000, 'ben has the messages');
      setRead(b.doc, 'ben', 'k6');
      await waitFor(() => inboxParts(inbox.doc).conversations.get(id)?.unread === 0, 5000, 'unread back to 0');
      await waitFor(() => chatNotifications(listNotifications(inbox.doc), id)[0]?.readAt !== null, 5000, 'notification read');
      expect((await server.api('/api/notifications/unread-count', { token: tokenB })).body).toEqual({ count: 0 });

      // A later message starts a new notification.
      appendMessage(a.doc, { id: 'k7', author: 'ann', text: 'again' });
      await waitFor(() => chatNotifications(listNotifications(inbox.doc), id).length === 2, 5000, 'second burst');

      // Read through the inbox only, it stays read while the conversation changes without news for Ben.
      expect((await server.api('/api/notifications/read-all', { token: tokenB, method: 'POST' })).status).toBe(200);
      await waitFor(() => chatNotifications(listNotifications(inbox.doc), id).every((n) => n.readAt !== null), 5000, 'second burst read');
      editMessage(a.doc, 'k7', 'again, edited');
      await waitFor(() => inboxParts(inbox.doc).conversations.get(id)?.lastMessage?.text === 'again, edited', 5000, 'the summary follows the edit');
      await new Promise((r) => setTimeout(r, 200));
      expect(chatNotifications(listNotifications(inbox.doc), id).filter((n) => n.readAt === null)).toHaveLength(0);
      expect(chatNotifications(listNotifications(inbox.doc), id)).toHaveLength(2);

      // Ben mutes the conversation: nothing new arrives (the summary still moves).
      expect((await server.api('/api/notifications/read-all', { token: tokenB, method: 'POST' })).status).toBe(200);
      const muted = await server.api('/api/notifications/preferences', { token: tokenB, method: 'PUT', body: { muted: { [id]: Date.now() + 3_600_000 } } });
      expect(muted.body.muted[id]).toBeGreaterThan(Date.now());
      appendMessage(a.doc, { id: 'k8', author: 'ann', text: 'you muted me' });
      await waitFor(() => inboxParts(inbox.doc).conversations.get(id)?.lastMessage?.text === 'you muted me', 5000, 'summary moves');
      await new Promise((r) => setTimeout(r, 200));
      expect(chatNotifications(listNotifications(inbox.doc), id).filter((n) => n.readAt === null)).toHaveLength(0);
      // Ann's own inbox never notifies her of her own messages.
      const annInbox = ann.open(inboxDocName('ann'));
      await annInbox.synced;
      expect(chatNotifications(listNotifications(annInbox.doc), id)).toHaveLength(0);
    } finally {
      ann.destroy();
      ben.destroy();
    }
  });
});

describe('notifications API', () => {
  it('lists newest first with cursor and unread filter; read, unread, archive, read-all; agrees with the inbox document', async () => {
    const service = await server.token('backend', { roles: ['service'] });
    const token = await server.token('cat');
    for (let i = 0; i < 5; i++) {
      const r = await server.api('/api/events', { token: service, body: { id: `ann-${i}`, type: 'system.announcement', occurredAt: new Date().toISOString(), subject: { type: 'news', id: `n${i}` }, recipients: ['cat'], data: { title: `News ${i}`, body: 'b' } } });
      expect(r.status).toBe(202);
    }
    let list: any = null;
    for (let tries = 0; tries < 100; tries++) {
      list = (await server.api('/api/notifications', { token })).body;
      if (list.notifications.length === 5) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(list.notifications.map((n: Notification) => n.title)).toEqual(['News 4', 'News 3', 'News 2', 'News 1', 'News 0']);
    const page1 = (await server.api('/api/notifications?limit=2', { token })).body;
    const page2 = (await server.api(`/api/notifications?limit=2&cursor=${page1.nextCursor}`, { token })).body;
    const page3 = (await server.api(`/api/notifications?limit=2&cursor=${page2.nextCursor}`, { token })).body;
    expect([...page1.notifications, ...page2.notifications, ...page3.notifications].map((n: Notification) => n.id)).toEqual(list.notifications.map((n: Notification) => n.id));
    expect(page3.nextCursor).toBeNull();

    const [n4, n3, n2] = list.notifications as Notification[];
    expect((await server.api(`/api/notifications/${n4!.id}/read`, { token, method: 'POST' })).status).toBe(200);
    expect((await server.api(`/api/notifications/${n3!.id}/archive`, { token, method: 'POST' })).status).toBe(200);
    expect((await server.api('/api/notifications/unread-count', { token })).body).toEqual({ count: 3 });
    expect((await server.api('/api/notifications?unread=1', { token })).body.notifications).toHaveLength(3);
    expect((await server.api(`/api/notifications/${n4!.id}/unread`, { token, method: 'POST' })).status).toBe(200);
    expect((await server.api('/api/notifications/unread-count', { token })).body).toEqual({ count: 4 });
    expect((await server.api('/api/notifications/nope/read', { token, method: 'POST' })).status).toBe(404);

    // The owner's open client sees API changes at once, and the API sees the client's.
    const client = await connectUser(server, 'cat');
    try {
      const inbox = client.open(inboxDocName('cat'));
      await inbox.synced;
      expect(listNotifications(inbox.doc).filter((n) => n.readAt === null && n.archivedAt === null)).toHaveLength(4);
      inboxParts(inbox.doc).notifications.get(n2!.id)!.set('readAt', Date.now());
      await inbox.acknowledged();
      expect((await server.api('/api/notifications/unread-count', { token })).body).toEqual({ count: 3 });
      expect((await server.api('/api/notifications/read-all', { token, method: 'POST' })).body).toEqual({ updated: 3 });
      await waitFor(() => listNotifications(inbox.doc).every((n) => n.readAt !== null || n.archivedAt !== null), 5000, 'read-all reaches the client');
    } finally {
      client.destroy();
    }
    const prefs = await server.api('/api/notifications/preferences', { token, method: 'PUT', body: { channels: { new_review: { inApp: false, push: false, email: true } } } });
    expect(prefs.body.channels.new_review).toEqual({ inApp: false, push: false, email: true });
    expect((await server.api('/api/notifications/preferences', { token })).body.channels.new_review.email).toBe(true);
    expect((await server.api('/api/notifications/preferences', { token, method: 'PUT', body: { channels: { x: { inApp: 'yes' } } } })).status).toBe(400);
  });

  it('presence: online while connected, last seen after, only for people who share a conversation', async () => {
    const tokenD = await server.token('dan');
    await server.api('/api/conversations', { token: tokenD, body: { members: ['eve'], title: 'P' } });
    const eve = await connectUser(server, 'eve');
    try {
      await eve.open(inboxDocName('eve')).synced;
      const online = await server.api('/api/presence?users=eve,stranger', { token: tokenD });
      expect(online.status).toBe(200);
      expect(online.body.eve.online).toBe(true);
      expect(online.body.stranger).toBeUndefined();
    } finally {
      eve.destroy();
    }
    let body: any;
    for (let i = 0; i < 50; i++) {
      body = (await server.api('/api/presence?users=eve', { token: tokenD })).body;
      if (!body.eve.online) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(body.eve.online).toBe(false);
    expect(body.eve.lastSeenAt).toBeGreaterThan(Date.now() - 60_000);
    expect((await server.api('/api/presence', { token: tokenD })).status).toBe(400);
  });

  it('stores and removes push subscriptions', async () => {
    const token = await server.token('fay');
    const sub = { endpoint: 'https://fcm.googleapis.com/fcm/send/abc', keys: { p256dh: 'BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM', auth: 'tBHItJI5svbpez7KI4CCXg' } };
    expect((await server.api('/api/push/subscriptions', { token, body: sub })).status).toBe(201);
    expect((await server.api('/api/push/subscriptions', { token, method: 'DELETE', body: { endpoint: sub.endpoint } })).status).toBe(200);
    expect((await server.api('/api/push/subscriptions', { token, method: 'DELETE', body: { endpoint: sub.endpoint } })).status).toBe(404);
    expect((await server.api('/api/push/subscriptions', { token, body: { endpoint: 'not a url', keys: sub.keys } })).status).toBe(400);
  });
});

describe('chat notifications survive a crash', () => {
  it('a message acknowledged just before kill -9 still notifies, exactly once, after restart', async () => {
    const crashy = await startServer();
    try {
      const token = await crashy.token('kim');
      const { body } = await crashy.api('/api/conversations', { token, body: { members: ['lou'], title: 'Crash' } });
      for (let round = 0; round < 3; round++) {
        const kim = await connectUser(crashy, 'kim');
        const open = kim.open(conversationDocName(body.id));
        await open.synced;
        appendMessage(open.doc, { id: `crash-${round}`, author: 'kim', text: `round ${round}` });
        await open.acknowledged();
        await crashy.kill(); // before the notifier's debounce fires
        kim.destroy();
        await crashy.restart();
      }
      const lou = await connectUser(crashy, 'lou');
      try {
        const inbox = lou.open(inboxDocName('lou'));
        await inbox.synced;
        await waitFor(() => chatNotifications(listNotifications(inbox.doc), body.id)[0]?.count === 3, 10_000, 'count 3 after restarts');
        expect(chatNotifications(listNotifications(inbox.doc), body.id)).toHaveLength(1);
        expect(inboxParts(inbox.doc).conversations.get(body.id)).toMatchObject({ unread: 3, lastMessage: { text: 'round 2' } });
      } finally {
        lou.destroy();
      }
    } finally {
      await crashy.kill();
    }
  });
});
