import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { TestServer } from '../fixtures/server';
import { launchBrowser, messageTexts, openConversation, send, signedIn, startAppServer, startDirect, statusOf, until, userIdsForAttempt, waitConnection } from '../fixtures/browser';

let server: TestServer;
let browser: Browser;

beforeAll(async () => {
  [server, browser] = await Promise.all([startAppServer(), launchBrowser()]);
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

const statuses = async (page: Page, texts: string[]) => Promise.all(texts.map((t) => statusOf(page, t)));

describe('offline', () => {
  it('sends while offline, keeps the messages pending across a reload, delivers each exactly once', async () => {
    const user = userIdsForAttempt();
    const alice = await signedIn(browser, server, user('alice1'));
    const bob = await signedIn(browser, server, user('bob1'));
    const id = await startDirect(alice.page, user('bob1'));
    await openConversation(bob.page, id);

    await alice.context.setOffline(true);
    await waitConnection(alice.page, 'offline');
    const texts = ['one', 'two', 'three'];
    for (const text of texts) await send(alice.page, text);
    // `pending` means committed to IndexedDB (`saving` before), so the reload below keeps all three.
    await until(() => statuses(alice.page, texts), ['pending', 'pending', 'pending']);
    await until(() => alice.page.getByTestId('connection').textContent(), 'offline - 3 messages waiting');

    await alice.page.reload();
    await until(() => messageTexts(alice.page), texts);
    await until(() => statuses(alice.page, texts), ['pending', 'pending', 'pending']);
    await until(() => alice.page.getByTestId('connection').textContent(), 'offline - 3 messages waiting');
    expect(await messageTexts(bob.page)).toEqual([]);

    await alice.context.setOffline(false);
    await waitConnection(alice.page, 'synced');
    await until(() => messageTexts(bob.page), texts);
    await until(() => statuses(alice.page, texts), ['read', 'read', 'read']);
    // Exactly once, also on the server.
    const history = await server.api(`/api/conversations/${id}/messages`, { token: await server.token(user('bob1')) });
    expect(history.body.messages.map((m: { text: string }) => m.text).sort()).toEqual([...texts].sort());
    await Promise.all([alice.context.close(), bob.context.close()]);
  }, 90_000);

  it('both users offline, both send, both back: the two views end identical', async () => {
    const user = userIdsForAttempt();
    const alice = await signedIn(browser, server, user('alice2'));
    const bob = await signedIn(browser, server, user('bob2'));
    const id = await startDirect(alice.page, user('bob2'));
    await openConversation(bob.page, id);
    await send(alice.page, 'before');
    await until(() => messageTexts(bob.page), ['before']);

    await Promise.all([alice.context.setOffline(true), bob.context.setOffline(true)]);
    await Promise.all([waitConnection(alice.page, 'offline'), waitConnection(bob.page, 'offline')]);
    await send(alice.page, 'alice offline 1');
    await send(bob.page, 'bob offline 1');
    await send(alice.page, 'alice offline 2');
    await send(bob.page, 'bob offline 2');
    await Promise.all([alice.context.setOffline(false), bob.context.setOffline(false)]);

    await until(async () => (await messageTexts(alice.page)).length, 5);
    await until(async () => (await messageTexts(bob.page)).length, 5);
    expect(await messageTexts(alice.page)).toEqual(await messageTexts(bob.page));
    await Promise.all([alice.context.close(), bob.context.close()]);
  }, 90_000);

  it('two tabs of one user, offline: a message sent in one shows in the other', async () => {
    const user = userIdsForAttempt();
    const alice = await signedIn(browser, server, user('alice3'));
    const id = await startDirect(alice.page, user('bob3'));
    const second = await alice.context.newPage();
    await second.goto(`${server.httpUrl}/#/c/${id}`);
    await waitConnection(second, 'synced');

    await alice.context.setOffline(true);
    await Promise.all([waitConnection(alice.page, 'offline'), waitConnection(second, 'offline')]);
    await send(alice.page, 'from tab one');
    await until(() => messageTexts(second), ['from tab one']);
    await send(second, 'from tab two');
    await until(() => messageTexts(alice.page), ['from tab one', 'from tab two']);
    await until(() => statuses(second, ['from tab one', 'from tab two']), ['pending', 'pending']);

    await alice.context.setOffline(false);
    await until(() => statuses(second, ['from tab one', 'from tab two']), ['sent', 'sent']);
    await until(() => statuses(alice.page, ['from tab one', 'from tab two']), ['sent', 'sent']);
    const history = await server.api(`/api/conversations/${id}/messages`, { token: await server.token(user('alice3')) });
    expect(history.body.messages.map((m: { text: string }) => m.text).sort()).toEqual(['from tab one', 'from tab two']);
    await alice.context.close();
  }, 90_000);

  it('rides out a server restart mid-conversation without a reload', async () => {
    const user = userIdsForAttempt();
    const alice = await signedIn(browser, server, user('alice4'));
    const bob = await signedIn(browser, server, user('bob4'));
    const id = await startDirect(alice.page, user('bob4'));
    await openConversation(bob.page, id);
    await send(alice.page, 'before restart');
    await until(() => messageTexts(bob.page), ['before restart']);

    const restarted = server.restart();
    await send(alice.page, 'during restart');
    await restarted;
    await send(bob.page, 'after restart');
    // 'during' and 'after' are concurrent: Yjs picks their order, the same for everyone.
    const sorted = async (page: Page) => [...(await messageTexts(page))].sort();
    await until(() => sorted(alice.page), ['after restart', 'before restart', 'during restart'], { timeout: 20_000 });
    await until(() => sorted(bob.page), ['after restart', 'before restart', 'during restart'], { timeout: 20_000 });
    expect(await messageTexts(alice.page)).toEqual(await messageTexts(bob.page));
    await until(() => statuses(alice.page, ['before restart', 'during restart']), ['read', 'read']);
    await Promise.all([waitConnection(alice.page, 'synced'), waitConnection(bob.page, 'synced')]);
    await Promise.all([alice.context.close(), bob.context.close()]);
  }, 90_000);
});
