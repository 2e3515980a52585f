import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { appendMessage, conversationDocName, readMessages, readReceipts, setRead } from '@parley/schema';
import { appServerAndBrowser, messageByText, openConversation, send, signedIn, statusOf, until, userIdsForAttempt } from '../fixtures/browser';
import { connectUser, waitFor } from '../fixtures/clients';

/**
 * Issue 12 item 4: a read receipt means the message was on screen in a
 * visible, focused tab; a group shows "read by N" with the names on demand.
 */
const both = appServerAndBrowser();

/** What the page would see with the tab in the background or another window focused. */
async function lookAway(page: Page, how: 'blurred' | 'hidden'): Promise<void> {
  await page.evaluate((hidden) => {
    document.hasFocus = () => false;
    if (hidden) Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
    window.dispatchEvent(new Event('blur'));
    document.dispatchEvent(new Event('visibilitychange'));
  }, how === 'hidden');
}
async function lookBack(page: Page): Promise<void> {
  await page.evaluate(() => {
    delete (document as { hasFocus?: unknown }).hasFocus;
    delete (document as { visibilityState?: unknown }).visibilityState;
    document.dispatchEvent(new Event('visibilitychange'));
    window.dispatchEvent(new Event('focus'));
  });
}
const scrollTo = (page: Page, where: 'top' | 'bottom') =>
  page.getByTestId('messages').evaluate((list, to) => {
    list.scrollTop = to === 'top' ? 0 : list.scrollHeight;
  }, where);
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('read receipts', () => {
  it('no receipt for the newest message while scrolled to the top, nor in a blurred or hidden tab', async () => {
    const { server, browser } = both;
    const user = userIdsForAttempt();
    const [writer, reader] = [user('rr-writer'), user('rr-reader')];
    const created = await server.api('/api/conversations', { token: await server.token(writer), body: { members: [reader] } });
    const id = created.body.id as string;
    const raw = await connectUser(server, writer);
    try {
      const chat = raw.open(conversationDocName(id));
      await chat.synced;
      const t0 = Date.now() - 60_000;
      for (let i = 0; i < 40; i++) appendMessage(chat.doc, { id: `m${i}`, author: writer, text: `old message ${i}`, createdAt: t0 + i });
      await chat.acknowledged();
      const receipt = () => readReceipts(chat.doc)[reader]?.messageId;

      const bob = await signedIn(browser, server, reader);
      await openConversation(bob.page, id);
      await waitFor(() => receipt() === 'm39', 10_000, 'the newest message read at the bottom');

      // Scrolled up to the start: a new message arrives below, off screen.
      await scrollTo(bob.page, 'top');
      await pause(300);
      appendMessage(chat.doc, { id: 'm40', author: writer, text: 'while you were up there' });
      await messageByText(bob.page, 'while you were up there').waitFor({ state: 'attached' });
      await pause(1_000);
      expect(receipt()).toBe('m39');
      await scrollTo(bob.page, 'bottom');
      await waitFor(() => receipt() === 'm40', 5_000, 'read once scrolled to it');

      // At the bottom, but the tab has no focus, then is hidden: nothing is read until looked at.
      for (const [how, next] of [['blurred', 'm41'], ['hidden', 'm42']] as const) {
        await lookAway(bob.page, how);
        appendMessage(chat.doc, { id: next, author: writer, text: `arrives ${how}` });
        await messageByText(bob.page, `arrives ${how}`).waitFor({ state: 'visible' });
        await pause(1_000);
        expect(receipt(), how).not.toBe(next);
        await lookBack(bob.page);
        await waitFor(() => receipt() === next, 5_000, `read once the ${how} tab is looked at`);
      }
      await bob.context.close();
    } finally {
      raw.destroy();
    }
  }, 90_000);

  it('a group of three shows "read by 1", then "read by 2" with the names; ✓✓ only once all read', async () => {
    const { server, browser } = both;
    const user = userIdsForAttempt();
    const [ann, ben, cat] = [user('rb-ann'), user('rb-ben'), user('rb-cat')];
    const created = await server.api('/api/conversations', { token: await server.token(ann), body: { members: [ben, cat], title: 'Trio' } });
    const id = created.body.id as string;
    const alice = await signedIn(browser, server, ann);
    const readers = await Promise.all([connectUser(server, ben), connectUser(server, cat)]);
    try {
      const docs = readers.map((r) => r.open(conversationDocName(id)));
      await Promise.all(docs.map((d) => d.synced));
      await openConversation(alice.page, id);
      await send(alice.page, 'hello trio');
      await until(() => statusOf(alice.page, 'hello trio'), 'sent');
      const message = messageByText(alice.page, 'hello trio');
      expect(await message.getByTestId('read-by').count()).toBe(0);

      await waitFor(() => docs.every((d) => readMessages(d.doc).some((m) => m.text === 'hello trio')), 10_000, 'both have it');
      const messageId = readMessages(docs[0]!.doc).find((m) => m.text === 'hello trio')!.id;
      setRead(docs[0]!.doc, ben, messageId);
      await until(() => message.getByTestId('read-by').locator('summary').textContent(), 'read by 1');
      expect(await statusOf(alice.page, 'hello trio')).toBe('sent');

      setRead(docs[1]!.doc, cat, messageId);
      await until(() => message.getByTestId('read-by').locator('summary').textContent(), 'read by 2');
      await until(() => statusOf(alice.page, 'hello trio'), 'read');
      await message.getByTestId('read-by').locator('summary').click();
      await until(() => message.getByTestId('read-by').getByRole('listitem').allTextContents(), [ben, cat].sort());
      await alice.context.close();
    } finally {
      for (const r of readers) r.destroy();
    }
  }, 90_000);
});
