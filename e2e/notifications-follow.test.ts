import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import {
  appendMessage,
  conversationDocName,
  conversationParts,
  editMessage,
  inboxDocName,
  inboxParts,
  listNotifications,
  readMessages,
  readReceipts,
  setRead,
  softDeleteMessage,
  type Notification,
} from '@parley/schema';
import { startServer, type TestServer } from './fixtures/server';
import { connectUser, waitFor } from './fixtures/clients';

/**
 * Issue 12 items 2 and 6: a chat notification and the inbox summary quote a
 * message as it is now (edited, or "Message deleted"), read or not; marking a
 * chat notification read reads the conversation up to it; a message read live
 * leaves no unread notification; a direct chat's notification is titled after
 * its sender.
 */
let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server.stop();
});

const chatOf = (list: Notification[], conversationId: string) => list.filter((n) => n.kind === 'new_message' && n.data.conversationId === conversationId);
const settle = () => new Promise((r) => setTimeout(r, 300));

async function apiNotifications(token: string, conversationId: string): Promise<Notification[]> {
  const list = (await server.api('/api/notifications?limit=200&archived=1', { token })).body.notifications as Notification[];
  return chatOf(list, conversationId);
}

describe('chat notifications follow the message they quote', () => {
  it('an edit updates the notification; a deletion replaces its text, read or unread, in the inbox document and the API', async () => {
    const tokenA = await server.token('fa', { name: 'Fay' });
    const tokenB = await server.token('fb', { name: 'Finn' });
    const { body } = await server.api('/api/conversations', { token: tokenA, body: { members: ['fb'], title: 'Plans' } });
    const id = body.id as string;
    const fa = await connectUser(server, 'fa', { token: tokenA });
    const fb = await connectUser(server, 'fb', { token: tokenB });
    try {
      const a = fa.open(conversationDocName(id));
      const inbox = fb.open(inboxDocName('fb'));
      await Promise.all([a.synced, inbox.synced]);

      appendMessage(a.doc, { id: 'f1', author: 'fa', text: 'see you at 8' });
      await waitFor(() => chatOf(listNotifications(inbox.doc), id)[0]?.body === 'see you at 8', 5000, 'notification');
      editMessage(a.doc, 'f1', 'see you at 9');
      await waitFor(() => chatOf(listNotifications(inbox.doc), id)[0]?.body === 'see you at 9', 5000, 'the edit reaches the notification');
      expect((await apiNotifications(tokenB, id))[0]!.body).toBe('see you at 9');

      // Finn reads it in the inbox, then Fay deletes it: the read notification forgets the text too.
      expect((await server.api('/api/notifications/read-all', { token: tokenB, method: 'POST' })).status).toBe(200);
      await waitFor(() => chatOf(listNotifications(inbox.doc), id)[0]?.readAt !== null, 5000, 'read');
      appendMessage(a.doc, { id: 'f2', author: 'fa', text: 'oops, wrong chat' });
      await waitFor(() => chatOf(listNotifications(inbox.doc), id).some((n) => n.body === 'oops, wrong chat'), 5000, 'second notification');
      expect((await server.api('/api/notifications/read-all', { token: tokenB, method: 'POST' })).status).toBe(200);
      await waitFor(() => chatOf(listNotifications(inbox.doc), id).every((n) => n.readAt !== null), 5000, 'all read');
      softDeleteMessage(a.doc, 'f2');
      softDeleteMessage(a.doc, 'f1');
      await waitFor(() => chatOf(listNotifications(inbox.doc), id).every((n) => n.body === 'Message deleted'), 5000, 'the deletions reach the notifications');
      const summary = inboxParts(inbox.doc).conversations.get(id);
      expect(summary?.lastMessage?.text).toBe('Message deleted');
      const listed = await apiNotifications(tokenB, id);
      expect(listed.length).toBeGreaterThan(0);
      for (const n of listed) {
        expect(n.body).toBe('Message deleted');
        expect(JSON.stringify(n)).not.toContain('oops');
      }

      // Unread and deleted before anyone read it: no unread notification keeps the text either.
      appendMessage(a.doc, { id: 'f3', author: 'fa', text: 'secret plan' });
      await waitFor(() => chatOf(listNotifications(inbox.doc), id).some((n) => n.body === 'secret plan'), 5000, 'third notification');
      softDeleteMessage(a.doc, 'f3');
      await waitFor(() => !JSON.stringify(inbox.doc.toJSON()).includes('secret plan'), 5000, 'the text leaves the inbox');
      expect(JSON.stringify(await apiNotifications(tokenB, id))).not.toContain('secret plan');
    } finally {
      fa.destroy();
      fb.destroy();
    }
  });
});

describe('the inbox and the conversation agree', () => {
  it('marking a chat notification read (inbox document or API) moves the read receipt and clears the badge', async () => {
    const tokenA = await server.token('ga', { name: 'Gia' });
    const tokenB = await server.token('gb', { name: 'Gus' });
    const { body } = await server.api('/api/conversations', { token: tokenA, body: { members: ['gb'], title: 'Garden' } });
    const id = body.id as string;
    const ga = await connectUser(server, 'ga', { token: tokenA });
    const gb = await connectUser(server, 'gb', { token: tokenB });
    try {
      const a = ga.open(conversationDocName(id));
      const b = gb.open(conversationDocName(id));
      const inbox = gb.open(inboxDocName('gb'));
      await Promise.all([a.synced, b.synced, inbox.synced]);
      appendMessage(a.doc, { id: 'g1', author: 'ga', text: 'one' });
      appendMessage(a.doc, { id: 'g2', author: 'ga', text: 'two' });
      await waitFor(() => chatOf(listNotifications(inbox.doc), id)[0]?.data.messageId === 'g2', 5000, 'notification');
      await waitFor(() => inboxParts(inbox.doc).conversations.get(id)?.unread === 2, 5000, 'badge 2');

      // Through the inbox document, as the web app does.
      const n = chatOf(listNotifications(inbox.doc), id)[0]!;
      const map = inboxParts(inbox.doc).notifications.get(n.id) as Y.Map<unknown>;
      map.set('readAt', Date.now());
      await waitFor(() => readReceipts(b.doc)['gb']?.messageId === 'g2', 5000, 'receipt moved to the notified message');
      await waitFor(() => inboxParts(inbox.doc).conversations.get(id)?.unread === 0, 5000, 'badge cleared');

      // Through the API.
      appendMessage(a.doc, { id: 'g3', author: 'ga', text: 'three' });
      await waitFor(() => chatOf(listNotifications(inbox.doc), id).some((x) => x.data.messageId === 'g3' && x.readAt === null), 5000, 'second notification');
      const open = chatOf(listNotifications(inbox.doc), id).find((x) => x.readAt === null)!;
      expect((await server.api(`/api/notifications/${encodeURIComponent(open.id)}/read`, { token: tokenB, method: 'POST' })).status).toBeLessThan(300);
      await waitFor(() => readReceipts(b.doc)['gb']?.messageId === 'g3', 5000, 'receipt moved by the API');
      await waitFor(() => inboxParts(inbox.doc).conversations.get(id)?.unread === 0, 5000, 'badge cleared by the API');
    } finally {
      ga.destroy();
      gb.destroy();
    }
  });

  it('messages read as they arrive leave no notification; a direct chat is titled after the sender', async () => {
    const tokenA = await server.token('ha', { name: 'Hana' });
    const tokenB = await server.token('hb', { name: 'Hugo' });
    const { body } = await server.api('/api/conversations', { token: tokenA, body: { members: ['hb'] } });
    const id = body.id as string;
    const ha = await connectUser(server, 'ha', { token: tokenA });
    const hb = await connectUser(server, 'hb', { token: tokenB });
    try {
      const a = ha.open(conversationDocName(id));
      const b = hb.open(conversationDocName(id));
      const inbox = hb.open(inboxDocName('hb'));
      await Promise.all([a.synced, b.synced, inbox.synced]);
      // Hugo reads every message shortly after it reaches him (rendered, then seen), as an open, focused chat does.
      conversationParts(b.doc).messages.observe(() => {
        setTimeout(() => {
          const last = readMessages(b.doc).at(-1);
          if (last && readReceipts(b.doc)['hb']?.messageId !== last.id) setRead(b.doc, 'hb', last.id);
        }, 150);
      });
      for (let i = 0; i < 12; i++) {
        appendMessage(a.doc, { id: `h${i}`, author: 'ha', text: `live ${i}` });
        await new Promise((r) => setTimeout(r, 40 + (i % 3) * 30));
      }
      await waitFor(() => readReceipts(b.doc)['hb']?.messageId === 'h11', 5000, 'all read');
      await waitFor(() => inboxParts(inbox.doc).conversations.get(id)?.unread === 0, 5000, 'badge 0');
      await settle();
      // Read in the chat before he looked at the inbox: nothing is left there, read or unread.
      expect(chatOf(listNotifications(inbox.doc), id)).toEqual([]);
      expect(await apiNotifications(tokenB, id)).toEqual([]);

      // Hugo away: the notification is titled after Hana, not "in a conversation".
      b.provider.destroy();
      appendMessage(a.doc, { id: 'h-away', author: 'ha', text: 'are you there?' });
      await waitFor(() => chatOf(listNotifications(inbox.doc), id).some((n) => n.readAt === null), 5000, 'notification while away');
      const away = chatOf(listNotifications(inbox.doc), id).find((n) => n.readAt === null)!;
      expect(away.title).toBe('Hana');
      expect(away.title).not.toContain('a conversation');
    } finally {
      ha.destroy();
      hb.destroy();
    }
  });
});
