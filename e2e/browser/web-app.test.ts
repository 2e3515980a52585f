/**
 * Issue 12 in the browser: groups, the message-size limit, actions by
 * keyboard and on a phone, sign-out erasing local data, the smaller defects,
 * the chat features people expect, and an axe-core pass over every screen.
 */
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { appServerAndBrowser, messageAction, messageByText, messageTexts, send, signedIn, startDirect, until, userIdsForAttempt } from '../fixtures/browser';
import { seriousViolations } from '../fixtures/axe';

const both = appServerAndBrowser();

/** Ids of the IndexedDB databases on this page's origin. */
const databases = (page: Page): Promise<string[]> => page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name ?? '').sort());

/** Errors thrown in the page (uncaught), collected from now on. */
function pageErrors(page: Page): Error[] {
  const errors: Error[] = [];
  page.on('pageerror', (error) => errors.push(error));
  return errors;
}

describe('groups (item 1)', () => {
  it('creates a group of several members with a title, lists, adds and removes members, renames, and a member leaves', async () => {
    const { server, browser } = both;
    const user = userIdsForAttempt();
    const bob = await signedIn(browser, server, user('gbob'));
    const alice = await signedIn(browser, server, user('galice'));
    await alice.page.getByLabel('Message a user').fill(`${user('gbob')}, ${user('gcarol')}`);
    await alice.page.getByLabel('Group title').fill('Weekend trip');
    await alice.page.getByRole('button', { name: 'Start' }).click();
    await alice.page.waitForURL(/#\/c\//);
    const id = /#\/c\/(.+)$/.exec(alice.page.url())![1]!;
    await until(() => alice.page.locator('#conversation-title').textContent(), 'Weekend trip');

    await alice.page.getByRole('button', { name: 'Details' }).click();
    const members = () => alice.page.getByTestId('member').locator('.member-name').allTextContents();
    await until(members, [`${user('galice')} (you)`, user('gbob'), user('gcarol')]);
    await alice.page.getByRole('button', { name: `Remove ${user('gcarol')}` }).click();
    await until(members, [`${user('galice')} (you)`, user('gbob')]);
    await alice.page.getByLabel('Add a member').fill(user('gdave'));
    await alice.page.getByRole('button', { name: 'Add member' }).click();
    await until(members, [`${user('galice')} (you)`, user('gbob'), user('gdave')]);
    await alice.page.getByLabel('Group title').fill('Trip to the lake');
    await alice.page.getByRole('button', { name: 'Rename' }).click();
    await until(() => alice.page.locator('#conversation-title').textContent(), 'Trip to the lake');

    // Bob sees the renamed group, is not an owner (no rename, no remove), and leaves it.
    await until(() => bob.page.getByTestId(`conversation-${id}`).locator('.conversation-title').textContent(), 'Trip to the lake', { timeout: 15_000 });
    await bob.page.getByTestId(`conversation-${id}`).click();
    await bob.page.getByRole('button', { name: 'Details' }).click();
    await expect(bob.page.getByRole('button', { name: 'Rename' }).count()).resolves.toBe(0);
    await expect(bob.page.getByRole('button', { name: /^Remove / }).count()).resolves.toBe(0);
    await bob.page.getByRole('button', { name: 'Leave conversation' }).click();
    await bob.page.getByRole('button', { name: 'Yes, leave' }).click();
    await until(() => bob.page.getByTestId(`conversation-${id}`).count(), 0);
    await until(members, [`${user('galice')} (you)`, user('gdave')], { timeout: 15_000 });
    await Promise.all([alice.context.close(), bob.context.close()]);
  }, 90_000);
});

describe('message size (item 3)', () => {
  it('counts bytes near the 16 KiB limit and refuses a longer message clearly, keeping its text, with no page error', async () => {
    const { server, browser } = both;
    const user = userIdsForAttempt();
    const { context, page } = await signedIn(browser, server, user('long'));
    const errors = pageErrors(page);
    await startDirect(page, user('longpeer'));
    const box = page.getByLabel('Message', { exact: true });
    await box.fill('é'.repeat(7_000)); // 14,000 bytes in UTF-8
    await until(() => page.getByTestId('composer-counter').textContent(), '14,000 / 16,384 bytes');
    const tooLong = 'x'.repeat(16_385);
    await box.fill(tooLong);
    await until(() => page.getByTestId('composer-counter').textContent(), '16,385 / 16,384 bytes (too long)');
    await box.press('Enter');
    await until(async () => /Too long to send: 16,385 bytes/.test((await page.getByTestId('composer-error').textContent()) ?? ''), true);
    expect(await box.inputValue()).toBe(tooLong);
    expect(await page.getByTestId('message').count()).toBe(0);
    await box.fill('x'.repeat(16_384));
    await box.press('Enter');
    await until(async () => (await messageTexts(page)).map((t) => t.length), [16_384]);
    expect(errors.map(String)).toEqual([]);
    await context.close();
  }, 60_000);
});

describe('actions by keyboard and on a phone (item 5)', () => {
  it('tabs to a message action button, opens its menu with the keyboard and reacts, replies and deletes', async () => {
    const { server, browser } = both;
    const user = userIdsForAttempt();
    const { context, page } = await signedIn(browser, server, user('keys'));
    await startDirect(page, user('keyspeer'));
    await send(page, 'reach me by keyboard');
    await send(page, 'delete me by keyboard');
    await until(() => page.getByTestId('message').count(), 2);
    await page.mouse.move(0, 0);
    await page.getByTestId('messages').focus();
    await page.keyboard.press('Tab');
    const focused = () => page.evaluate(() => document.activeElement?.getAttribute('aria-label') ?? document.activeElement?.textContent ?? '');
    await until(async () => /^Actions for your message/.test(await focused()), true);
    // The focused button is drawn (not only in the tab order).
    expect(await page.evaluate(() => getComputedStyle(document.activeElement!).opacity)).toBe('1');
    await page.keyboard.press('Enter');
    await until(focused, 'React 👍');
    await page.keyboard.press('Enter');
    await until(() => messageByText(page, 'reach me by keyboard').getByRole('button', { name: /^👍 1/ }).count(), 1);
    // Escape closes a menu and gives focus back to its button.
    await page.keyboard.press('ArrowDown');
    await until(focused, 'React 👍');
    await page.keyboard.press('Escape');
    await until(async () => /^Actions for/.test(await focused()), true);
    await page.keyboard.press('ArrowUp'); // opens on the last item
    await until(focused, 'Delete…');
    await page.keyboard.press('Home');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    await until(focused, 'Reply');
    await page.keyboard.press('Enter');
    await until(async () => /^Replying to/.test((await page.locator('.composer-mode').textContent()) ?? ''), true);
    await page.keyboard.press('Escape');

    // Delete by keyboard asks first; Cancel keeps the message, Delete deletes it.
    const target = messageByText(page, 'delete me by keyboard');
    await target.getByRole('button', { name: /^Actions for/ }).focus();
    await page.keyboard.press('ArrowUp');
    await until(focused, 'Delete…');
    await page.keyboard.press('Enter');
    await until(focused, 'Cancel');
    await page.keyboard.press('Enter');
    expect(await messageTexts(page)).toEqual(['reach me by keyboard', 'delete me by keyboard']);
    await messageAction(target, 'Delete…');
    await until(() => messageTexts(page), ['reach me by keyboard', 'Message deleted']);
    await context.close();
  }, 60_000);

  it('on a phone shows one actions button per message, and its menu on a tap', async () => {
    const { server, browser } = both;
    const user = userIdsForAttempt();
    const { context, page } = await signedIn(browser, server, user('tap'), { width: 390, height: 844 });
    await startDirect(page, user('tappeer'));
    await send(page, 'one');
    await send(page, 'two');
    await until(() => page.getByTestId('message').count(), 2);
    const visibleButtons = (text: string) =>
      messageByText(page, text)
        .getByRole('button')
        .evaluateAll((buttons) => buttons.filter((b) => b.getBoundingClientRect().width > 0 && getComputedStyle(b).opacity !== '0').map((b) => b.getAttribute('aria-label') ?? b.textContent));
    await until(async () => (await visibleButtons('one')).length, 1);
    expect((await visibleButtons('two'))[0]).toMatch(/^Actions for your message/);
    await messageByText(page, 'one').getByRole('button', { name: /^Actions for/ }).click();
    await until(() => messageByText(page, 'one').getByRole('menuitem').count(), 6);
    await messageByText(page, 'one').getByRole('menuitem', { name: 'Edit' }).click();
    await until(() => page.getByLabel('Message', { exact: true }).inputValue(), 'one');
    await context.close();
  }, 60_000);
});

describe('sign-out (item 7)', () => {
  it("erases the signed-out user's IndexedDB databases, says so, and leaves other users' data", async () => {
    const { server, browser } = both;
    const user = userIdsForAttempt();
    // Another user, still signed in in another tab of this device.
    const { context } = await signedIn(browser, server, user('other'));
    const page = await context.newPage();
    await page.goto(server.httpUrl);
    await page.evaluate(() => localStorage.removeItem('parley.login'));
    await page.reload();
    await page.getByLabel('User id').fill(user('leaver'));
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByTestId('me').filter({ hasText: user('leaver') }).waitFor();
    await startDirect(page, user('leaverpeer'));
    await send(page, 'secret on this device');
    await until(() => messageByText(page, 'secret on this device').getAttribute('data-status'), 'sent');
    const mine = (names: string[]) => names.filter((n) => n.startsWith(`parley:${user('leaver')}:`));
    expect(mine(await databases(page)).length).toBeGreaterThanOrEqual(3); // meta, inbox, the conversation
    // A second tab of the same user signs out with the first (else it would keep, and rewrite, the data).
    const secondTab = await context.newPage();
    await secondTab.goto(server.httpUrl);
    await secondTab.getByTestId('me').filter({ hasText: user('leaver') }).waitFor();
    await until(async () => (await secondTab.locator('.conversation .last').allTextContents()).some((t) => t.includes('secret on this device')), true);
    await page.getByRole('button', { name: 'Sign out' }).click();
    const erased = `${user('leaver')}'s messages and notifications were erased from this device`;
    await until(async () => ((await page.getByTestId('signed-out').textContent()) ?? '').includes(erased), true);
    await until(async () => ((await secondTab.getByTestId('signed-out').textContent()) ?? '').includes(erased), true);
    await until(async () => mine(await databases(page)), []);
    await secondTab.close();
    // The other user did not sign out here: what they have not sent yet must survive.
    expect((await databases(page)).some((n) => n.startsWith(`parley:${user('other')}:`))).toBe(true);
    // Signing back in works and loads from the server again.
    await page.getByLabel('User id').fill(user('leaver'));
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await until(async () => (await page.locator('.conversation .last').allTextContents()).some((t) => t.includes('secret on this device')), true, { timeout: 15_000 });
    await context.close();
  }, 60_000);
});

describe('smaller things (item 10)', () => {
  it('inbox items, right-to-left text, links, the name on a phone, the delivery note, id rules, messaging yourself, delete confirmation', async () => {
    const { server, browser } = both;
    const user = userIdsForAttempt();
    const peer = await signedIn(browser, server, user('smallpeer'));
    // Login: the id rules are said, and "Small" is the account "small".
    const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    await page.goto(server.httpUrl);
    await until(async () => /Not case-sensitive/.test((await page.locator('#login-user-hint').textContent()) ?? ''), true);
    await page.getByLabel('User id').fill(user('Small').replace('Small', 'SMALL'));
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByTestId('me').filter({ hasText: user('small') }).waitFor();
    await until(() => page.getByTestId('me').isVisible(), true); // on a phone too

    // Messaging yourself: a plain sentence, no server error.
    await page.getByLabel('Message a user').fill(user('SMALL'));
    await page.getByRole('button', { name: 'Start' }).click();
    await until(() => page.locator('.new-direct [role="alert"]').textContent(), 'That is you. Type the id of someone else.');

    const id = await startDirect(page, user('SmallPeer'));
    await send(page, 'مرحبا بالعالم');
    await send(page, 'see https://example.com/a?b=1. and <b>not bold</b>');
    const arabic = messageByText(page, 'مرحبا بالعالم').getByTestId('message-text');
    await until(() => arabic.evaluate((e) => getComputedStyle(e).direction), 'rtl');
    expect(await page.getByLabel('Message', { exact: true }).getAttribute('dir')).toBe('auto');
    const link = page.getByRole('link', { name: 'https://example.com/a?b=1' });
    await until(() => link.getAttribute('href'), 'https://example.com/a?b=1');
    expect(await link.getAttribute('rel')).toContain('noopener');
    expect(await page.locator('.text b').count()).toBe(0);
    await until(async () => (await messageTexts(page)).at(-1), 'see https://example.com/a?b=1. and <b>not bold</b>');

    // Delete asks first; Cancel keeps the message.
    const doomed = messageByText(page, 'مرحبا بالعالم');
    await doomed.getByRole('button', { name: /^Actions for/ }).click();
    await doomed.getByRole('menuitem', { name: 'Delete…' }).click();
    await doomed.getByRole('button', { name: 'Cancel' }).click();
    expect(await messageTexts(page)).toContain('مرحبا بالعالم');

    // Inbox: an unread item is drawn like a read one (same text size and colour), only marked.
    await peer.page.getByTestId('bell').click();
    const firstUnread = peer.page.locator('[data-testid="notification"][data-unread="true"]').first();
    await firstUnread.waitFor({ timeout: 15_000 });
    const item = peer.page.locator(`[data-testid="notification"][data-id="${await firstUnread.getAttribute('data-id')}"]`);
    const look = () => item.locator('.notification-open').evaluate((e) => ({ size: getComputedStyle(e).fontSize, colour: getComputedStyle(e.parentElement!).color }));
    const unreadLook = await look();
    await item.getByRole('button', { name: 'Mark read' }).click();
    await until(() => item.getAttribute('data-unread'), 'false');
    expect(unreadLook).toEqual(await look());

    // Preferences: the four channels, and a note on when each is used.
    await page.goto(`${server.httpUrl}/#/prefs`);
    await until(async () => /email digest/.test((await page.getByTestId('delivery-note').textContent()) ?? ''), true);
    for (const channel of ['In app', 'Push', 'Email', 'SMS']) await expect(page.getByRole('columnheader', { name: channel, exact: true }).count()).resolves.toBe(1);
    void id;
    await Promise.all([context.close(), peer.context.close()]);
  }, 90_000);
});

describe('what people expect of a chat (item 12)', () => {
  it('day separators, an unread divider with a jump, initials, safe formatting, mute and leave inside the conversation', async () => {
    const { server, browser } = both;
    const user = userIdsForAttempt();
    const ann = await signedIn(browser, server, user('ann12'));
    const ben = await signedIn(browser, server, user('ben12'));
    const id = await startDirect(ann.page, user('ben12'));
    await send(ann.page, 'first, read');
    await ben.page.getByTestId(`conversation-${id}`).click();
    await until(() => messageTexts(ben.page), ['first, read']);
    await ben.page.goto(`${server.httpUrl}/#/`);
    await ann.page.evaluate((conversationId) => {
      const chat = (window as unknown as { parley: { conversation(id: string): { send(text: string): string } } }).parley.conversation(conversationId);
      chat.send('**bold** and *italic* and `<code>` and _under_');
      for (let i = 1; i <= 40; i++) chat.send(`unread ${i}`);
    }, id);
    await until(async () => Number((await ben.page.getByTestId(`conversation-${id}`).getByTestId('unread').textContent().catch(() => '0')) || 0), 41, { timeout: 15_000 });
    await ben.page.getByTestId(`conversation-${id}`).click();
    await until(() => ben.page.getByTestId('message').count(), 42);
    await until(() => ben.page.getByTestId('day-separator').allTextContents(), ['Today']);
    // The divider sits above the first unread message; the view opens at the end, so a jump leads to it.
    await until(() => ben.page.getByTestId('unread-divider').evaluate((e) => e.nextElementSibling?.querySelector('[data-testid="message-text"]')?.textContent), 'bold and italic and <code> and under');
    await until(() => ben.page.getByTestId('jump-new').isVisible(), true);
    await ben.page.getByTestId('jump-new').click();
    await until(async () => {
      const [box, line] = await Promise.all([ben.page.getByTestId('messages').boundingBox(), ben.page.getByTestId('unread-divider').boundingBox()]);
      return Boolean(box && line && line.y >= box.y - 1 && line.y < box.y + box.height);
    }, true);
    // Formatting is elements, never HTML from the text.
    const formatted = messageByText(ben.page, 'bold and italic and <code> and under').getByTestId('message-text');
    expect(await formatted.evaluate((e) => e.innerHTML)).toBe('<strong>bold</strong> and <em>italic</em> and <code>&lt;code&gt;</code> and <em>under</em>');
    expect(await ben.page.getByTestId('message').first().locator('.avatar').textContent()).toBe(user('ann12').slice(0, 2).toUpperCase());

    // Mute from inside the conversation reaches the preferences.
    await ben.page.getByRole('button', { name: 'Details' }).click();
    await ben.page.getByRole('button', { name: 'Mute' }).click();
    await until(() => ben.page.getByRole('button', { name: 'Unmute' }).getAttribute('aria-pressed'), 'true');
    await ben.page.goto(`${server.httpUrl}/#/prefs`);
    await until(() => ben.page.locator('.muted-list input').first().isChecked(), true);

    // Leave from inside a group.
    await ann.page.getByLabel('Message a user').fill(`${user('ben12')}, ${user('cy12')}`);
    await ann.page.getByRole('button', { name: 'Start' }).click();
    await ann.page.waitForURL((url) => !url.hash.endsWith(id));
    await ann.page.getByRole('button', { name: 'Details' }).click();
    await ann.page.getByRole('button', { name: 'Leave conversation' }).click();
    await ann.page.getByRole('button', { name: 'Yes, leave' }).click();
    await ann.page.waitForURL((url) => url.hash === '#/');
    await until(() => ann.page.locator('.conversation').count(), 1);
    await Promise.all([ann.context.close(), ben.context.close()]);
  }, 90_000);
});

describe('accessibility (axe-core)', () => {
  it('has no serious or critical violations on the login, conversation, inbox and preferences screens', async () => {
    const { server, browser } = both;
    const user = userIdsForAttempt();
    const context = await browser.newContext({ viewport: { width: 1100, height: 720 } });
    const login = await context.newPage();
    await login.goto(server.httpUrl);
    await login.getByLabel('User id').waitFor();
    expect(await seriousViolations(login)).toEqual([]);
    await context.close();

    const peer = await signedIn(browser, server, user('axepeer'));
    const { context: own, page } = await signedIn(browser, server, user('axe'));
    const id = await startDirect(page, user('axepeer'));
    await send(page, 'hello **there**, see https://example.com');
    await until(() => messageByText(page, 'hello there, see https://example.com').getAttribute('data-status'), 'sent');
    await peer.page.getByTestId(`conversation-${id}`).click();
    await send(peer.page, 'a reply');
    await until(() => page.getByTestId('message').count(), 2);
    await page.getByRole('button', { name: 'Details' }).click();
    await page.getByTestId('message').first().getByRole('button', { name: /^Actions for/ }).click();
    expect(await seriousViolations(page)).toEqual([]);
    await page.keyboard.press('Escape');
    await peer.page.getByTestId('bell').click();
    await peer.page.getByTestId('notification').first().waitFor().catch(() => undefined);
    expect(await seriousViolations(peer.page)).toEqual([]);
    await page.goto(`${server.httpUrl}/#/prefs`);
    await page.getByRole('heading', { name: 'Preferences' }).waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await Promise.all([own.close(), peer.context.close()]);
  }, 90_000);
});
