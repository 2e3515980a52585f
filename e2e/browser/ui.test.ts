import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import type { TestServer } from '../fixtures/server';
import { launchBrowser, messageAction, messageByText, messageTexts, send, signedIn, startAppServer, startDirect, statusOf, until, userIdsForAttempt } from '../fixtures/browser';

let server: TestServer;
let browser: Browser;

beforeAll(async () => {
  [server, browser] = await Promise.all([startAppServer(), launchBrowser()]);
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe('web app', () => {
  it('works on a phone-sized screen and from the keyboard', async () => {
    const suffix = Date.now().toString(36); // fresh users per attempt, so a CI retry starts clean
    const { context, page } = await signedIn(browser, server, `phone-${suffix}`, { width: 390, height: 844 });
    await expect(page.getByRole('navigation', { name: 'Conversations' }).isVisible()).resolves.toBe(true);
    await startDirect(page, `desk-${suffix}`);
    // On a phone the conversation takes the screen; the list comes back with the back link.
    await until(() => page.getByRole('navigation', { name: 'Conversations' }).isVisible(), false);
    await page.getByLabel('Message', { exact: true }).focus();
    await page.keyboard.type('typed on a phone');
    await page.keyboard.press('Enter');
    await until(() => messageTexts(page), ['typed on a phone']);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.getByRole('link', { name: 'Back to conversations' }).click();
    await until(() => page.getByRole('navigation', { name: 'Conversations' }).isVisible(), true);
    // Landmarks and names for assistive technology.
    // The message may still be on its way ("syncing - 1 message waiting") for a moment.
    await until(() => page.getByRole('status').first().textContent(), 'online');
    await expect(page.getByRole('button', { name: /^Notifications, \d+ unread$/ }).count()).resolves.toBe(1);
    await context.close();
  }, 60_000);

  it('surfaces a refused update and carries on with the conversation reloaded from the server', async () => {
    // Fresh users per attempt, so a CI retry starts clean.
    const suffix = Date.now().toString(36);
    const { context, page } = await signedIn(browser, server, `rogue-${suffix}`);
    const id = await startDirect(page, `victim-${suffix}`);
    await send(page, 'honest message');
    await until(() => statusOf(page, 'honest message'), 'sent');
    await page.evaluate((conversationId) => {
      const session = (window as unknown as { parley: { conversation(id: string): { replica: { doc: { getMap(name: string): { set(k: string, v: unknown): void } } } } } }).parley;
      session.conversation(conversationId).replica.doc.getMap('meta').set('title', 'hijacked');
    }, id);
    await until(async () => /server-only-field/.test((await page.getByRole('alert').textContent()) ?? ''), true);
    // Sent at once, while the replica may still be being rebuilt: it waits for the rebuilt one.
    await send(page, 'after the refusal');
    await until(() => messageTexts(page), ['honest message', 'after the refusal'], { timeout: 15_000 });
    await until(() => statusOf(page, 'after the refusal'), 'sent', { timeout: 15_000 });
    await page.getByRole('button', { name: 'Dismiss' }).click();
    await until(() => page.getByRole('alert').count(), 0);
    await context.close();
  }, 60_000);

  it('shows the newest page of history and loads older pages on scroll', async () => {
    const suffix = Date.now().toString(36); // fresh users per attempt, so a CI retry starts clean
    const { context, page } = await signedIn(browser, server, `reader-${suffix}`);
    const id = await startDirect(page, `writer-${suffix}`);
    await page.evaluate((conversationId) => {
      const chat = (window as unknown as { parley: { conversation(id: string): { send(text: string): string } } }).parley.conversation(conversationId);
      for (let i = 1; i <= 120; i++) chat.send(`history ${i}`);
    }, id);
    await until(() => page.getByTestId('message').count(), 50);
    await until(async () => (await messageTexts(page)).at(-1), 'history 120');
    // A person scrolls until older messages appear: scroll to the top (and say so, in case the
    // list already sat there and no scroll event would fire) on every look.
    const scrollToTopAndCount = async () => {
      await page.getByTestId('messages').evaluate((list) => {
        list.scrollTop = 0;
        list.dispatchEvent(new Event('scroll'));
      });
      return page.getByTestId('message').count();
    };
    // At least: one look may scroll past a page that has just loaded and fetch the next one too.
    await until(async () => (await scrollToTopAndCount()) >= 100, true, { timeout: 30_000, what: 'a second page' });
    await until(scrollToTopAndCount, 120, { timeout: 30_000, what: 'the whole history' });
    await until(async () => (await messageTexts(page))[0], 'history 1');
    await context.close();
  }, 60_000);

  it('edits, deletes, replies and reacts; the inbox panel and preferences work', async () => {
    const user = userIdsForAttempt();
    const ann = await signedIn(browser, server, user('ann'));
    const ben = await signedIn(browser, server, user('ben'));
    const id = await startDirect(ann.page, user('ben'));
    await send(ann.page, 'tpyo here');
    await send(ann.page, 'to be deleted');

    const first = messageByText(ann.page, 'tpyo here');
    await messageAction(first, 'Edit');
    await until(() => ann.page.getByLabel('Message', { exact: true }).inputValue(), 'tpyo here');
    await ann.page.getByLabel('Message', { exact: true }).fill('typo fixed');
    await ann.page.getByRole('button', { name: 'Save' }).click();
    const second = messageByText(ann.page, 'to be deleted');
    await messageAction(second, 'Delete…');

    // Ben got notified of ann's messages while away: badge, inbox actions.
    await until(async () => Number((await ben.page.getByTestId('badge').textContent()) ?? 0) > 0, true, { timeout: 15_000 });
    await ben.page.getByTestId('bell').click();
    const item = ben.page.getByTestId('notification').first();
    await item.getByRole('button', { name: 'Mark read' }).click();
    await until(() => ben.page.getByTestId('badge').count(), 0);
    await item.getByRole('button', { name: 'Mark unread' }).click();
    await until(() => ben.page.getByTestId('badge').count(), 1);
    await ben.page.getByRole('button', { name: 'Read all' }).click();
    await until(() => ben.page.getByTestId('badge').count(), 0);
    await item.getByRole('button', { name: 'Archive' }).click();
    await until(() => ben.page.getByTestId('notification').count(), 0);
    await ben.page.getByRole('button', { name: 'Show archived' }).click();
    await until(() => ben.page.getByTestId('notification').count(), 1);
    await ben.page.getByTestId('notification').first().locator('.notification-open').click();
    await ben.page.waitForURL(`**/#/c/${id}`);
    await until(() => messageTexts(ben.page), ['typo fixed', 'Message deleted']);

    // Ben replies and reacts; ann sees both.
    const fixed = messageByText(ben.page, 'typo fixed');
    await messageAction(fixed, 'Reply');
    await ben.page.getByLabel('Message', { exact: true }).fill('thanks');
    await ben.page.getByLabel('Message', { exact: true }).press('Enter');
    await messageAction(fixed, 'React ❤️');
    await until(() => ann.page.locator('.reply-quote').first().textContent(), `↪ ${user('ann')}: typo fixed`);
    await until(() => messageByText(ann.page, 'typo fixed').getByRole('button', { name: /^❤️ 1/ }).count(), 1);

    // Preferences: a channel switch and a mute reach the server.
    await ben.page.goto(`${server.httpUrl}/#/prefs`);
    // Email is on by default (CONTRACT section 7): turning it off is the change that must arrive.
    await ben.page.getByRole('checkbox', { name: 'new message: Email' }).uncheck();
    await ben.page.getByRole('checkbox', { name: `Mute ${user('ann')}` }).check();
    const token = await server.token(user('ben'));
    await until(async () => {
      const prefs = await server.api('/api/notifications/preferences', { token });
      return prefs.body.channels?.new_message?.email === false && prefs.body.muted?.[id] > Date.now();
    }, true);
    await Promise.all([ann.context.close(), ben.context.close()]);
  }, 90_000);
});
