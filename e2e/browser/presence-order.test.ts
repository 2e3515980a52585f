import { describe, expect, it } from 'vitest';
import { appServerAndBrowser, messageTexts, openConversation, send, signedIn, startDirect, until, userIdsForAttempt, waitConnection } from '../fixtures/browser';

/** Issue 12 items 8 (display order after offline writes) and 9 (last seen; presence unknown while offline). */
const both = appServerAndBrowser();

describe('display order', () => {
  it('messages both wrote offline show in the order written, the same on both devices', async () => {
    const { server, browser } = both;
    const user = userIdsForAttempt();
    const alice = await signedIn(browser, server, user('ord-alice'));
    const bob = await signedIn(browser, server, user('ord-bob'));
    const id = await startDirect(alice.page, user('ord-bob'));
    await openConversation(bob.page, id);
    await send(alice.page, 'before');
    await until(() => messageTexts(bob.page), ['before']);

    await Promise.all([alice.context.setOffline(true), bob.context.setOffline(true)]);
    await Promise.all([waitConnection(alice.page, 'offline'), waitConnection(bob.page, 'offline')]);
    const written = ['alice offline 1', 'bob offline 1', 'alice offline 2', 'bob offline 2'];
    for (const text of written) {
      await send(text.startsWith('alice') ? alice.page : bob.page, text);
      await new Promise((r) => setTimeout(r, 20));
    }
    await Promise.all([alice.context.setOffline(false), bob.context.setOffline(false)]);
    await until(() => messageTexts(alice.page), ['before', ...written], { timeout: 20_000 });
    await until(() => messageTexts(bob.page), ['before', ...written], { timeout: 20_000 });
    await Promise.all([alice.context.close(), bob.context.close()]);
  }, 90_000);
});

describe('presence', () => {
  it('shows last seen once a contact leaves, and no green dot while this device is offline', async () => {
    const { server, browser } = both;
    const user = userIdsForAttempt();
    const alice = await signedIn(browser, server, user('pr-alice'));
    const bob = await signedIn(browser, server, user('pr-bob'));
    const id = await startDirect(alice.page, user('pr-bob'));
    await openConversation(bob.page, id);
    const dot = alice.page.getByTestId(`conversation-${id}`).getByTestId('presence');
    await until(() => dot.getAttribute('data-presence'), 'online', { what: 'bob online' });
    await until(() => alice.page.getByTestId('presence-line').textContent(), 'online');

    // Alice loses the network while Bob stays online: her device cannot know, so no green dot.
    await alice.context.setOffline(true);
    await waitConnection(alice.page, 'offline');
    await until(() => dot.getAttribute('data-presence'), 'unknown', { what: 'presence unknown while offline' });
    expect(await dot.getAttribute('data-online')).toBe('false');
    expect(await dot.getAttribute('aria-label')).toMatch(/unknown/);
    await alice.context.setOffline(false);
    await waitConnection(alice.page, 'synced');
    await until(() => dot.getAttribute('data-presence'), 'online', { what: 'online again' });

    // Bob leaves: Alice sees when he was last seen.
    await bob.context.close();
    await until(() => dot.getAttribute('data-presence'), 'offline', { timeout: 20_000, what: 'bob offline' });
    await until(async () => /^last seen/.test((await alice.page.getByTestId('presence-line').textContent()) ?? ''), true, { timeout: 20_000, what: 'last seen line' });
    expect(await dot.getAttribute('aria-label')).toMatch(/^last seen/);
    await alice.context.close();
  }, 90_000);
});
