/**
 * Long history in the web app (issue 9): scrolling back through 5,000
 * messages, as the issue names (ten times the live window of
 * DEFAULTS.liveWindowMessages, so the document is renewed and the oldest come
 * from history pages through the HistoryCache), offline reading and an offline edit of an old message,
 * queued in the outbox, that lands once; and the search box, whose results open the conversation at the message.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { TestServer } from '../fixtures/server';
import type { Message } from '@parley/schema';
import { launchBrowser, messageAction, messageByText, messageTexts, openConversation, signedIn, startDirect, until, userIdsForAttempt, waitConnection, startAppServer } from '../fixtures/browser';
import { seedHistory } from '../fixtures/bulkHistory';
import { DEFAULTS } from '@parley/schema';

/**
 * Past the live window: renewals, and the first messages only in the history (not the live
 * replica). At 5,000 this also fails a timeline that renders every older row again per page
 * (it did until each history message kept one view object: over 120 s to scroll back, 63 s now).
 */
const COUNT = 5_000;

const both = {} as { server: TestServer; browser: Browser };
// Building the app on a loaded machine can take more than the default minute.
beforeAll(async () => {
  [both.server, both.browser] = await Promise.all([startAppServer(), launchBrowser()]);
}, 300_000);
afterAll(async () => {
  await both.browser?.close();
  await both.server?.stop();
});

/** Scrolls the timeline to the top the way a person does (and says so, in case it already sat there), then reads the first message. */
const scrollToTopAndReadFirst = (page: Page) =>
  page.getByTestId('messages').evaluate((list) => {
    list.scrollTop = 0;
    list.dispatchEvent(new Event('scroll'));
    return list.querySelector('[data-testid="message-text"]')?.textContent ?? null;
  });

async function allServerMessages(conversationId: string, token: string): Promise<Message[]> {
  const all: Message[] = [];
  let before: string | null = null;
  do {
    const page: { body: { messages: Message[]; nextCursor: string | null } } = await both.server.api(`/api/conversations/${conversationId}/messages?limit=200${before ? `&before=${before}` : ''}`, { token });
    all.push(...page.body.messages);
    before = page.body.nextCursor;
  } while (before);
  return all;
}

describe('long history in the web app', () => {
  it('scrolls back through 5,000 messages (past the live window), reads them offline, edits an old one offline: the edit lands once', async () => {
    const { server, browser } = both;
    const user = userIdsForAttempt();
    const alice = await signedIn(browser, server, user('alice'));
    alice.context.setDefaultTimeout(60_000); // thousands of rows on a loaded machine
    const id = await startDirect(alice.page, user('bob'));
    expect(COUNT).toBeGreaterThan(2 * DEFAULTS.liveWindowMessages);
    await seedHistory(server, id, user('alice'), COUNT);
    await until(async () => (await messageTexts(alice.page)).at(-1), `message ${COUNT}`, { timeout: 60_000, what: 'the newest message' });
    // The point of the test: the old messages are not in the live replica, only in history pages.
    const liveHas = (messageId: string) =>
      alice.page.evaluate(
        ([conversationId, wanted]) =>
          (window as unknown as { parley: { conversation(id: string): { snapshot(): { messages: { id: string }[] } } } }).parley
            .conversation(conversationId!)
            .snapshot()
            .messages.some((m) => m.id === wanted),
        [id, messageId],
      );
    await until(() => liveHas('m10'), false, { what: 'm10 out of the live window' });

    await until(() => scrollToTopAndReadFirst(alice.page), 'message 1', { timeout: 120_000, what: 'the oldest message, scrolling back' });
    expect(await alice.page.getByTestId('message').count()).toBe(COUNT);

    await alice.context.setOffline(true);
    await waitConnection(alice.page, 'offline');
    // Offline, from a fresh start of the app: the history comes from this device.
    await alice.page.reload();
    await openConversation(alice.page, id);
    await until(async () => (await messageTexts(alice.page)).at(-1), `message ${COUNT}`, { timeout: 60_000, what: 'the newest message offline' });
    await until(() => scrollToTopAndReadFirst(alice.page), 'message 1', { timeout: 120_000, what: 'the oldest message offline' });

    const old = messageByText(alice.page, 'message 10');
    await messageAction(old, 'Edit');
    await alice.page.getByLabel('Message', { exact: true }).fill('message 10, edited offline');
    // Enter saves (as Save does); with 5,000 rows on a loaded machine the button may never count as "stable" for a click.
    await alice.page.getByLabel('Message', { exact: true }).press('Enter');
    await messageByText(alice.page, 'message 10, edited offline').waitFor();

    await alice.context.setOffline(false);
    await waitConnection(alice.page, 'synced', 60_000);
    const token = await server.token(user('alice'));
    const landed = async () => (await server.api(`/api/conversations/${id}/messages?before=m11&limit=1`, { token })).body.messages[0]?.text;
    await until(landed, 'message 10, edited offline', { timeout: 30_000, what: 'the edit on the server' });
    // Once: no duplicate message, no second copy of the edit, nothing else changed.
    const all = await allServerMessages(id, token);
    expect(all).toHaveLength(COUNT);
    expect(new Set(all.map((m) => m.id)).size).toBe(COUNT);
    expect(all.filter((m) => m.editedAt !== undefined).map((m) => m.id)).toEqual(['m10']);
    expect(await messageByText(alice.page, 'message 10, edited offline').count()).toBe(1);
    await alice.context.close();
  }, 300_000);

  it('searches from the box: marked snippets shown as text, a result opens the conversation at its message', async () => {
    const { server, browser } = both;
    const user = userIdsForAttempt();
    const ann = await signedIn(browser, server, user('ann'));
    const id = await startDirect(ann.page, user('ben'));
    await seedHistory(server, id, user('ann'), 600, { text: (i) => (i === 3 ? 'the <b>unicorn</b> & plumbing quote' : `message ${i}`), idPrefix: 's' });
    await until(async () => (await messageTexts(ann.page)).at(-1), 'message 600', { timeout: 30_000 });

    await ann.page.getByLabel('Search messages').fill('unicor');
    const result = ann.page.getByTestId('search-result');
    await result.first().waitFor();
    expect(await result.count()).toBe(1);
    expect(await result.locator('mark').allTextContents()).toEqual(['unicorn']);
    // The message's own markup is text, never HTML.
    expect(await result.locator('b').count()).toBe(0);
    expect(await result.locator('.search-snippet').textContent()).toContain('the <b>unicorn</b> & plumbing quote');

    await result.click();
    await ann.page.waitForURL(new RegExp(`#/c/${id}/m/s3$`));
    const target = ann.page.locator('[data-testid="message"][data-id="s3"]');
    await target.waitFor({ timeout: 30_000 });
    await until(() => target.evaluate((el) => el.classList.contains('jump-target')), true, { what: 'the result marked' });
    // On screen: scrolled to it, with the history around it loaded.
    await until(
      () => target.evaluate((el) => {
        const box = el.getBoundingClientRect();
        const list = el.closest('[data-testid="messages"]')!.getBoundingClientRect();
        return box.bottom > list.top && box.top < list.bottom;
      }),
      true,
      { what: 'the result on screen' },
    );
    expect(await ann.page.locator('[data-testid="message"][data-id="s4"]').count()).toBe(1);

    // A query that is only symbols: the server's 400, shown as a sentence.
    await ann.page.getByLabel('Search messages').fill('"*"');
    await ann.page.getByRole('search').getByRole('alert').waitFor();
    await ann.context.close();
  }, 120_000);
});
