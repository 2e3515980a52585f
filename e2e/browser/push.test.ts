/**
 * Web Push in Chromium (issue 10): "Enable notifications" in the preferences
 * with the browser's permission granted through the context, the service
 * worker showing a push, a newer version replacing the older one, and a click
 * showing the conversation in the open tab.
 *
 * What headless Chromium does, measured here: `PushManager.subscribe` is
 * refused at once with "AbortError: Registration failed - permission denied"
 * even with the permission granted (there is no push service: Chromium's is
 * FCM, unreachable without the internet, and headless has none). So the
 * subscription step is tested against that refusal (the page must say so), the
 * rest of the flow (permission, service worker, the server's key) for real,
 * and pushes are delivered to the real service worker through the DevTools
 * protocol (`ServiceWorker.deliverPushMessage`), observed with
 * `registration.getNotifications()`. A click is a `notificationclick` event
 * dispatched in the worker (a real click on a system notification cannot be
 * made headless).
 */
import { describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { appServerAndBrowser, signedIn, startDirect, until, userIdsForAttempt } from '../fixtures/browser';

const both = appServerAndBrowser();

interface Shown {
  title: string;
  body: string;
  tag: string;
  icon: string;
  data: { id?: string; url?: string };
}

const shown = (page: Page): Promise<Shown[]> =>
  page.evaluate(async () => {
    const registration = await navigator.serviceWorker.ready;
    return (await registration.getNotifications()).map((n) => ({ title: n.title, body: n.body, tag: n.tag, icon: n.icon, data: n.data as Shown['data'] }));
  });

/** Delivers one push message to the page's service worker, as a push service would. */
async function pushTo(context: BrowserContext, page: Page, origin: string, data: string): Promise<void> {
  const cdp = await context.newCDPSession(page);
  const registrations: Array<{ registrationId: string; scopeURL: string; isDeleted: boolean }> = [];
  cdp.on('ServiceWorker.workerRegistrationUpdated', (event) => registrations.push(...event.registrations));
  await cdp.send('ServiceWorker.enable');
  await until(async () => registrations.some((r) => !r.isDeleted && r.scopeURL.startsWith(origin)), true, { what: 'a service worker registration' });
  const registration = registrations.find((r) => !r.isDeleted && r.scopeURL.startsWith(origin))!;
  await cdp.send('ServiceWorker.deliverPushMessage', { origin, registrationId: registration.registrationId, data });
  await cdp.detach();
}

async function withNotifications(userId: string) {
  const { server, browser } = both;
  const session = await signedIn(browser, server, userId);
  await session.context.grantPermissions(['notifications'], { origin: server.httpUrl });
  return session;
}

describe('enable notifications', () => {
  it('asks the browser, registers the service worker and fetches the server key; without a push key the page says so', async (ctx) => {
    const { server } = both;
    const user = userIdsForAttempt();
    const key = await server.api('/api/push/vapid-public-key', { token: await server.token(user('pia')) });
    // This branch's server has no VAPID key route yet (the delivery part brings it); with it, the next test runs instead.
    if (key.status !== 404) ctx.skip();
    const { context, page } = await withNotifications(user('pia'));
    await page.goto(`${server.httpUrl}/#/prefs`);
    await until(() => page.getByTestId('push-status').getAttribute('data-state'), 'off');
    await page.getByRole('button', { name: 'Enable notifications' }).click();
    await until(async () => /Push is not set up on this server/.test((await page.getByTestId('push-status').textContent()) ?? ''), true);
    expect(await page.evaluate(() => Notification.permission)).toBe('granted');
    expect(await page.evaluate(async () => Boolean((await navigator.serviceWorker.getRegistration())?.active))).toBe(true);
    await context.close();
  }, 90_000);

  it('with the server key, a subscription headless Chromium cannot make is reported, not hidden', async (ctx) => {
    const { server } = both;
    const user = userIdsForAttempt();
    const key = await server.api('/api/push/vapid-public-key', { token: await server.token(user('pim')) });
    if (key.status !== 200) ctx.skip();
    const { context, page } = await withNotifications(user('pim'));
    await page.goto(`${server.httpUrl}/#/prefs`);
    await until(() => page.getByTestId('push-status').getAttribute('data-state'), 'off');
    await page.getByRole('button', { name: 'Enable notifications' }).click();
    await until(async () => /could not subscribe to push \(Registration failed/.test((await page.getByTestId('push-status').textContent()) ?? ''), true);
    expect(await page.evaluate(() => Notification.permission)).toBe('granted');
    await context.close();
  }, 90_000);
});

describe('the preferences page', () => {
  it('shows kinds x four channels, the email address of the token, and keeps quiet hours in the browser time zone', async () => {
    const { server, browser } = both;
    const user = userIdsForAttempt();
    const userId = user('qia');
    const token = await server.token(userId, { email: 'qia@example.test' });
    const context = await browser.newContext({ timezoneId: 'Asia/Tokyo' });
    context.setDefaultTimeout(15_000);
    // Signed in with a token that carries an email claim, as a real identity provider's would.
    await context.addInitScript(
      (login) => localStorage.setItem('parley.login', JSON.stringify(login)),
      { token, userId, name: userId, expiresAt: Date.now() + 3600_000 },
    );
    const page = await context.newPage();
    await page.goto(`${server.httpUrl}/#/prefs`);
    await until(async () => (await page.getByTestId('email-address').textContent())?.includes('qia@example.test'), true);
    await page.getByRole('checkbox', { name: 'payment failed: SMS' }).check();
    await page.getByLabel('Hold push and SMS during quiet hours').check();
    expect(await page.getByLabel('Time zone').inputValue()).toBe('Asia/Tokyo');
    await page.getByLabel('From').fill('21:15');
    await page.getByLabel('until').fill('06:45');
    await page.getByRole('button', { name: 'Save quiet hours' }).click();
    await until(async () => {
      const prefs = (await server.api('/api/notifications/preferences', { token })).body;
      return [prefs.channels?.payment_failed?.sms, prefs.quietHours];
    }, [true, { start: '21:15', end: '06:45', tz: 'Asia/Tokyo' }]);
    // A zone that does not exist is refused on the page, before anything is written.
    await page.getByLabel('Time zone').fill('Nowhere/Atlantis');
    await page.getByRole('button', { name: 'Save quiet hours' }).click();
    await until(async () => /Not saved: tz must be an IANA time zone/.test((await page.getByTestId('quiet-note').textContent()) ?? ''), true);
    expect((await server.api('/api/notifications/preferences', { token })).body.quietHours.tz).toBe('Asia/Tokyo');
    await context.close();
  }, 90_000);
});

describe('the service worker', () => {
  it('shows a push with title, body and icon, tagged by id so a newer version replaces it; untrusted payloads stay safe', async () => {
    const { server } = both;
    const user = userIdsForAttempt();
    const { context, page } = await withNotifications(user('pol'));
    const origin = server.httpUrl.replace(/\/$/, '');
    const url = `${origin}/#/c/some-conversation`;
    await pushTo(context, page, origin, JSON.stringify({ id: 'n-1', kind: 'new_message', title: 'ann', body: 'hello', url, count: 1 }));
    await until(async () => (await shown(page)).length, 1, { what: 'one notification', timeout: 30_000 });
    const [first] = await shown(page);
    expect(first).toMatchObject({ title: 'ann', body: 'hello', tag: 'n-1', data: { id: 'n-1', url } });
    expect(first!.icon).toBe(`${origin}/icon-192.png`);

    // The coalesced notification moves on: the same id replaces what is on screen.
    await pushTo(context, page, origin, JSON.stringify({ id: 'n-1', kind: 'new_message', title: 'ann', body: 'hello again', url, count: 2 }));
    await until(async () => (await shown(page)).map((n) => n.body), ['hello again'], { what: 'the newer version only', timeout: 30_000 });

    // A foreign URL never opens from a notification; a payload that is not JSON still shows something.
    await pushTo(context, page, origin, JSON.stringify({ id: 'n-2', title: 'x', body: 'y', url: 'https://evil.example/phish' }));
    await pushTo(context, page, origin, 'not json');
    await until(async () => (await shown(page)).length, 3, { what: 'three notifications', timeout: 30_000 });
    const all = await shown(page);
    expect(all.find((n) => n.tag === 'n-2')?.data.url).toBe(`${origin}/`);
    expect(all.find((n) => n.tag === 'parley')).toMatchObject({ title: 'Parley', body: 'You have a new notification' });
    await context.close();
  }, 90_000);

  it('a click shows the conversation in the open tab', async () => {
    const { server } = both;
    const user = userIdsForAttempt();
    const { context, page } = await withNotifications(user('pat'));
    const conversationId = await startDirect(page, user('pen'));
    await page.goto(`${server.httpUrl}/#/prefs`);
    const origin = server.httpUrl.replace(/\/$/, '');
    await pushTo(context, page, origin, JSON.stringify({ id: 'n-click', kind: 'new_message', title: 'pen', body: 'look', url: `${origin}/#/c/${conversationId}` }));
    await until(async () => (await shown(page)).length, 1, { what: 'the notification', timeout: 30_000 });
    const [worker] = context.serviceWorkers();
    expect(worker).toBeDefined();
    await worker!.evaluate(async () => {
      // The worker's global scope, typed as far as used here (the DOM lib has no worker types).
      const scope = self as unknown as {
        registration: ServiceWorkerRegistration;
        dispatchEvent(event: Event): boolean;
        NotificationEvent: new (type: string, init: { notification: Notification }) => Event;
      };
      const [notification] = await scope.registration.getNotifications();
      scope.dispatchEvent(new scope.NotificationEvent('notificationclick', { notification: notification! }));
    });
    await page.waitForURL((url) => url.hash === `#/c/${conversationId}`);
    await page.getByTestId('messages').waitFor();
    // The click closed it.
    await until(async () => (await shown(page)).length, 0, { what: 'no notification left' });
    await context.close();
  }, 90_000);
});
