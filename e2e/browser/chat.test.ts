import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { Browser } from 'playwright-core';
import type { TestServer } from '../fixtures/server';
import { launchBrowser, messageAction, messageTexts, openConversation, send, signedIn, startAppServer, startDirect, statusOf, until } from '../fixtures/browser';

let server: TestServer;
let browser: Browser;
let users: { alice: SignedIn; bob: SignedIn; id: string };
type SignedIn = Awaited<ReturnType<typeof signedIn>>;

beforeAll(async () => {
  [server, browser] = await Promise.all([startAppServer(), launchBrowser()]);
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe('two users chat in real time', () => {
  it('see messages, typing, read receipts and presence live', async () => {
    const alice = await signedIn(browser, server, 'alice');
    const bob = await signedIn(browser, server, 'bob');
    const id = await startDirect(alice.page, 'bob');
    await openConversation(bob.page, id);
    users = { alice, bob, id };

    // Presence: each sees the other online.
    await until(() => alice.page.getByTestId(`conversation-${id}`).getByTestId('presence').getAttribute('data-online'), 'true');

    // Typing.
    await alice.page.getByLabel('Message', { exact: true }).fill('hel');
    await until(() => bob.page.getByTestId('typing').textContent(), 'alice is typing…');

    // A message arrives; bob has the conversation open, so it is read: two ticks for alice.
    await send(alice.page, 'hello bob');
    await until(() => messageTexts(bob.page), ['hello bob']);
    await until(() => bob.page.getByTestId('typing').textContent(), '');
    await until(() => statusOf(alice.page, 'hello bob'), 'read');

    await send(bob.page, 'hi alice 👋');
    await until(() => messageTexts(alice.page), ['hello bob', 'hi alice 👋']);

    // The README's screenshot: alice's view, mid-conversation.
    await send(bob.page, 'yes, here. Reading **the quote** now: https://example.com/quotes/42');
    const first = alice.page.getByTestId('message').first();
    await messageAction(first, 'React 👍');
    await until(() => bob.page.getByTestId('message').first().getByRole('button', { name: /^👍 1/ }).count(), 1);
    await until(async () => (await messageTexts(alice.page)).length, 3);
    await alice.page.mouse.move(0, 0);
    await alice.page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    mkdirSync(resolve(import.meta.dirname, '../../docs'), { recursive: true });
    await alice.page.screenshot({ path: resolve(import.meta.dirname, '../../docs/screenshot.png') });
    // And at phone size (the README's second screenshot): one actions button per message.
    await alice.page.setViewportSize({ width: 390, height: 760 });
    await alice.page.screenshot({ path: resolve(import.meta.dirname, '../../docs/screenshot-phone.png') });
    await alice.page.setViewportSize({ width: 1100, height: 720 });

  }, 120_000);

  it('ring the bell for a message read elsewhere, and clear it through the inbox panel', async () => {
    const { alice, bob, id } = users;
    // Bob leaves the conversation: the next message is unread there and rings his bell.
    await bob.page.goto(`${server.httpUrl}/#/`);
    await send(alice.page, 'are you there?');
    await until(() => statusOf(alice.page, 'are you there?'), 'sent');
    await until(() => bob.page.getByTestId(`conversation-${id}`).getByTestId('unread').textContent(), '1');
    await until(() => bob.page.getByTestId('badge').textContent(), '1', { timeout: 10_000 });

    // Through the inbox panel back to the conversation: read everywhere.
    await bob.page.getByTestId('bell').click();
    await bob.page.getByTestId('notification').first().locator('.notification-open').click();
    await bob.page.waitForURL(`**/#/c/${id}`);
    await until(() => statusOf(alice.page, 'are you there?'), 'read');
    await until(() => bob.page.getByTestId('badge').count(), 0);

  }, 60_000);

  it('see presence go when the other user leaves', async () => {
    const { alice, bob, id } = users;
    await bob.context.close();
    await until(() => alice.page.getByTestId(`conversation-${id}`).getByTestId('presence').getAttribute('data-online'), 'false', { timeout: 15_000 });
    await alice.context.close();
  }, 60_000);
});
