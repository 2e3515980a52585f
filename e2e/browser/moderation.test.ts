/**
 * Mentions, blocking and reports in the web app (issue 14) in Chromium
 * against a real server: `@` completion over the members (keyboard, WAI-ARIA
 * combobox) and the highlighted mention; block and unblock from the
 * conversation's details and from preferences, with the blocked user's
 * messages collapsed; a report with its reason from the message menu that
 * reaches the admin list.
 */
import { describe, expect, it } from 'vitest';
import { seriousViolations } from '../fixtures/axe';
import { appServerAndBrowser, messageAction, messageByText, openConversation, signedIn, until, userIdsForAttempt, waitConnection } from '../fixtures/browser';

const both = appServerAndBrowser();

async function group(owner: string, members: string[], title: string): Promise<string> {
  const token = await both.server.token(owner);
  const answer = await both.server.api('/api/conversations', { token, body: { members, title } });
  expect(answer.status).toBe(201);
  return answer.body.id as string;
}
async function post(user: string, id: string, text: string): Promise<void> {
  const token = await both.server.token(user);
  expect((await both.server.api(`/api/conversations/${id}/messages`, { token, body: { text } })).status).toBe(201);
}

describe('mentions, blocks and reports in the web app', () => {
  it('completes @name over the members with the keyboard and highlights the mention', async () => {
    const user = userIdsForAttempt();
    const [alice, bob, bert] = [user('alice14'), user('bob14'), user('bert14')];
    const id = await group(alice, [bob, bert, user('carol14')], 'Mentions');
    const { context, page } = await signedIn(both.browser, both.server, alice);
    try {
      await openConversation(page, id);
      const box = page.getByRole('combobox', { name: 'Message' });
      await box.pressSequentially('ask @b');
      const list = page.getByRole('listbox', { name: 'Mention a member' });
      await list.waitFor();
      expect(await list.getByRole('option').allTextContents()).toEqual([`@${bert}`, `@${bob}`]);
      expect(await box.getAttribute('aria-expanded')).toBe('true');
      expect(await seriousViolations(page)).toEqual([]);
      await until(() => page.getByRole('option', { selected: true }).textContent(), `@${bert}`);
      await box.press('ArrowDown');
      await until(() => page.getByRole('option', { selected: true }).textContent(), `@${bob}`);
      expect(await box.getAttribute('aria-activedescendant')).toBe(await page.getByRole('option', { selected: true }).getAttribute('id'));
      await box.press('ArrowUp');
      await box.press('ArrowUp');
      await until(() => page.getByRole('option', { selected: true }).textContent(), `@${bob}`);
      await box.press('Enter');
      await until(() => box.inputValue(), `ask @${bob} `);
      expect(await list.count()).toBe(0);
      // Escape closes the list without touching the text.
      await box.pressSequentially('and @c');
      await list.waitFor();
      await box.press('Escape');
      expect(await list.count()).toBe(0);
      await box.pressSequentially('arol14 too');
      await box.press('Enter');
      const text = `ask @${bob} and @${user('carol14')} too`;
      await messageByText(page, text).waitFor();
      expect(await messageByText(page, text).getByTestId('mention').allTextContents()).toEqual([`@${bob}`, `@${user('carol14')}`]);

      // The server took the mentions: bob has a mention notification.
      const token = await both.server.token(bob);
      await until(
        async () => (await both.server.api('/api/notifications', { token })).body.notifications.filter((n: { kind: string }) => n.kind === 'mention').length,
        1,
        { what: "bob's mention notification" },
      );
    } finally {
      await context.close();
    }
  }, 90_000);

  it('blocks from the details, collapses the messages, unblocks from preferences', async () => {
    const user = userIdsForAttempt();
    const [dana, eli] = [user('dana14'), user('eli14')];
    const id = await group(dana, [eli, user('fin14')], 'Blocking');
    await post(eli, id, 'a message from eli');
    const { context, page } = await signedIn(both.browser, both.server, dana);
    try {
      await openConversation(page, id);
      await messageByText(page, 'a message from eli').waitFor();
      await page.getByRole('button', { name: 'Details' }).click();
      await page.getByRole('button', { name: `Block ${eli}` }).click();
      await page.getByRole('button', { name: `Unblock ${eli}` }).waitFor();
      const collapsed = page.locator('[data-testid="message"][data-blocked="true"]');
      await collapsed.waitFor();
      expect(await seriousViolations(page)).toEqual([]);
      expect(await collapsed.textContent()).toContain('Message from a blocked user');
      expect(await messageByText(page, 'a message from eli').count()).toBe(0);
      await collapsed.getByRole('button', { name: `Show the message from ${eli}, whom you blocked` }).click();
      await messageByText(page, 'a message from eli').waitFor();
      const token = await both.server.token(dana);
      expect((await both.server.api('/api/users/me/blocks', { token })).body.blocks.map((b: { userId: string }) => b.userId)).toEqual([eli]);

      await page.goto(`${both.server.httpUrl}/#/prefs`);
      await page.getByTestId('blocked-list').getByText(eli).waitFor();
      expect(await seriousViolations(page)).toEqual([]);
      await page.getByRole('button', { name: `Unblock ${eli}` }).click();
      await page.getByTestId('blocked-list').waitFor({ state: 'detached' });
      expect((await both.server.api('/api/users/me/blocks', { token })).body.blocks).toEqual([]);
      await page.goto(`${both.server.httpUrl}/#/c/${id}`);
      await messageByText(page, 'a message from eli').waitFor();
      expect(await page.locator('[data-blocked="true"]').count()).toBe(0);
    } finally {
      await context.close();
    }
  }, 90_000);

  it('reports a message with a reason from its menu; the admin sees it', async () => {
    const user = userIdsForAttempt();
    const [fred, gus] = [user('fred14'), user('gus14')];
    const id = await group(fred, [gus], 'Reports');
    await post(gus, id, 'buy my watches');
    const { context, page } = await signedIn(both.browser, both.server, fred);
    try {
      await openConversation(page, id);
      const message = messageByText(page, 'buy my watches');
      await message.waitFor();
      await messageAction(message, 'Report…');
      const dialog = page.getByRole('dialog', { name: `Report ${gus}'s message` });
      await dialog.waitFor();
      const reason = dialog.getByLabel('Why? A moderator will read this.');
      await until(() => reason.evaluate((el) => el === document.activeElement), true, { what: 'focus in the reason' });
      expect(await seriousViolations(page)).toEqual([]);
      await dialog.getByRole('button', { name: 'Send report' }).click();
      await dialog.getByRole('alert').waitFor();
      await reason.fill('spam, selling watches');
      await dialog.getByRole('button', { name: 'Send report' }).click();
      await dialog.waitFor({ state: 'detached' });
      await until(() => page.getByTestId('report-status').textContent(), 'Thank you. The message was reported to the moderators.');

      // Reporting again answers the server's 409 in the dialog, and Escape closes it.
      await messageAction(message, 'Report…');
      await reason.fill('again');
      await dialog.getByRole('button', { name: 'Send report' }).click();
      await dialog.getByRole('alert').waitFor();
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'detached' });

      const admin = await both.server.token(user('mod14'), { roles: ['admin'] });
      const listed = (await both.server.api('/api/admin/reports', { token: admin })).body.reports.filter((r: { conversationId: string }) => r.conversationId === id);
      expect(listed).toHaveLength(1);
      expect(listed[0]).toMatchObject({ reporter: fred, reason: 'spam, selling watches', message: { author: gus, text: 'buy my watches' } });
    } finally {
      await context.close();
    }
  }, 90_000);

  it('lets an admin delete the reported message and close the report from the reports page', async () => {
    const user = userIdsForAttempt();
    const [hana, ian, mod] = [user('hana14'), user('ian14'), user('mod14b')];
    const id = await group(hana, [ian], 'Moderated');
    await post(ian, id, 'rude words here');
    const reporter = await both.server.token(hana);
    const history = await both.server.api(`/api/conversations/${id}/messages`, { token: reporter });
    const messageId = history.body.messages[0].id as string;
    const made = await both.server.api(`/api/conversations/${id}/messages/${messageId}/report`, { token: reporter, body: { reason: 'rude' } });
    expect(made.status).toBe(201);

    // The web app's dev login has no roles: an admin signs in with an admin token put where the app keeps its login.
    const token = await both.server.token(mod, { roles: ['admin'] });
    const context = await both.browser.newContext({ viewport: { width: 1100, height: 720 } });
    context.setDefaultTimeout(15_000);
    await context.addInitScript((login) => localStorage.setItem('parley.login', login), JSON.stringify({ token, userId: mod, name: mod, expiresAt: Date.now() + 3_600_000 }));
    const page = await context.newPage();
    try {
      await page.goto(`${both.server.httpUrl}/#/admin/reports`);
      await waitConnection(page, 'synced');
      const report = page.locator(`[data-testid="report"][data-id="${made.body.report.id}"]`);
      await report.waitFor();
      expect(await report.textContent()).toContain('rude words here');
      expect(await seriousViolations(page)).toEqual([]);
      expect(await report.textContent()).toContain('Reason: rude');
      await report.getByRole('button', { name: 'Delete message' }).click();
      await report.getByText('Message deleted').waitFor();
      await report.getByRole('button', { name: 'Close report' }).click();
      await report.waitFor({ state: 'detached' });
      await until(
        async () => (await both.server.api('/api/notifications', { token: reporter })).body.notifications.filter((n: { kind: string }) => n.kind === 'report_handled').length,
        1,
        { what: 'the reporter told' },
      );
      const after = await both.server.api(`/api/conversations/${id}/messages`, { token: reporter });
      expect(after.body.messages[0]).toMatchObject({ text: '', deletedAt: expect.any(Number) });
    } finally {
      await context.close();
    }
  }, 90_000);
});
