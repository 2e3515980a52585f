/**
 * Attachments in the web app, in Chromium against a real server (issue 14):
 * the attach button's file chooser, a paste and a drag and drop send files; images show
 * as previews and other files as cards, on the other member's screen too;
 * a file sent offline is held (in IndexedDB, across a reload) with its
 * message, and both go out when the network is back.
 */
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { TestServer } from '../fixtures/server';
import { launchBrowser, messageByText, messageTexts, openConversation, signedIn, startAppServer, startDirect, until, userIdsForAttempt, waitConnection } from '../fixtures/browser';

let server: TestServer;
let browser: Browser;
let png: Buffer;

beforeAll(async () => {
  [server, browser] = await Promise.all([startAppServer(), launchBrowser()]);
  png = await sharp({ create: { width: 600, height: 300, channels: 3, background: '#22aa66' } }).png().toBuffer();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

async function chooseFiles(page: Page, files: Array<{ name: string; mimeType: string; buffer: Buffer }>) {
  const chooser = page.waitForEvent('filechooser');
  await page.getByRole('button', { name: 'Attach files' }).click();
  await (await chooser).setFiles(files);
}

async function sendText(page: Page, text: string) {
  await page.getByLabel('Message', { exact: true }).fill(text);
  await page.getByLabel('Message', { exact: true }).press('Enter');
}

/** Whether the message's image preview has loaded (its thumbnail decoded in the page). */
const previewLoaded = (page: Page, text: string) =>
  messageByText(page, text)
    .locator('[data-testid="attachment-image"] img')
    .evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)
    .catch(() => false);

describe('attachments in the web app', () => {
  it('sends an image from the file chooser and a file by pasting; the other member sees a preview and a card', async () => {
    const user = userIdsForAttempt();
    const alice = await signedIn(browser, server, user('alice-a1'));
    const bob = await signedIn(browser, server, user('bob-a1'));
    const id = await startDirect(alice.page, user('bob-a1'));
    await openConversation(bob.page, id);

    await chooseFiles(alice.page, [{ name: 'site-photo.png', mimeType: 'image/png', buffer: png }]);
    await alice.page.getByTestId('chosen-files').getByText('site-photo.png').waitFor();
    await sendText(alice.page, 'the leak, photographed');
    await until(() => previewLoaded(bob.page, 'the leak, photographed'), true, { timeout: 20_000, what: "bob's preview" });
    await until(() => previewLoaded(alice.page, 'the leak, photographed'), true, { what: "alice's preview" });
    expect(await messageByText(bob.page, 'the leak, photographed').locator('img').getAttribute('alt')).toBe('site-photo.png');

    // Paste a file into the composer, as from the clipboard.
    await alice.page.getByLabel('Message', { exact: true }).evaluate((textarea) => {
      const data = new DataTransfer();
      data.items.add(new File(['quote: 420 EUR, materials included'], 'quote.txt', { type: 'text/plain' }));
      textarea.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
    });
    await alice.page.getByTestId('chosen-files').getByText('quote.txt').waitFor();
    await sendText(alice.page, 'and the quote');
    const card = messageByText(bob.page, 'and the quote').getByTestId('attachment-file');
    await card.waitFor({ timeout: 20_000 });
    expect(await card.textContent()).toContain('quote.txt');

    const history = await server.api(`/api/conversations/${id}/messages`, { token: await server.token(user('bob-a1')) });
    const byText = Object.fromEntries(history.body.messages.map((m: { text: string; attachments?: unknown[] }) => [m.text, m.attachments]));
    expect(byText['the leak, photographed']).toEqual([expect.objectContaining({ name: 'site-photo.png', type: 'image/png', width: 600, height: 300 })]);
    expect(byText['and the quote']).toEqual([expect.objectContaining({ name: 'quote.txt', type: 'application/octet-stream' })]);
    await Promise.all([alice.context.close(), bob.context.close()]);
  }, 120_000);

  it('sends files dropped on the composer: an image preview and a file card in one message', async () => {
    const user = userIdsForAttempt();
    const alice = await signedIn(browser, server, user('alice-a3'));
    const bob = await signedIn(browser, server, user('bob-a3'));
    const id = await startDirect(alice.page, user('bob-a3'));
    await openConversation(bob.page, id);

    // A real drop: a DataTransfer built in the page with File objects, dispatched as dragenter, dragover and drop.
    const data = await alice.page.evaluateHandle((pngBase64: string) => {
      const bytes = Uint8Array.from(atob(pngBase64), (c) => c.charCodeAt(0));
      const transfer = new DataTransfer();
      transfer.items.add(new File([bytes], 'roof.png', { type: 'image/png' }));
      transfer.items.add(new File(['invoice 2026-114: 980 EUR'], 'invoice.txt', { type: 'text/plain' }));
      return transfer;
    }, png.toString('base64'));
    const composer = alice.page.locator('form.composer');
    await composer.dispatchEvent('dragenter', { dataTransfer: data });
    await composer.dispatchEvent('dragover', { dataTransfer: data });
    await alice.page.locator('form.composer.dragging').waitFor();
    await composer.dispatchEvent('drop', { dataTransfer: data });
    await alice.page.getByTestId('chosen-files').getByText('roof.png').waitFor();
    await alice.page.getByTestId('chosen-files').getByText('invoice.txt').waitFor();
    expect(await alice.page.locator('form.composer.dragging').count()).toBe(0);
    await sendText(alice.page, 'dropped: the roof and the invoice');

    await until(() => previewLoaded(bob.page, 'dropped: the roof and the invoice'), true, { timeout: 20_000, what: "bob's preview of the dropped image" });
    const card = messageByText(bob.page, 'dropped: the roof and the invoice').getByTestId('attachment-file');
    await card.waitFor({ timeout: 20_000 });
    expect(await card.textContent()).toContain('invoice.txt');
    const history = await server.api(`/api/conversations/${id}/messages`, { token: await server.token(user('bob-a3')) });
    expect(history.body.messages[0].attachments).toEqual([
      expect.objectContaining({ name: 'roof.png', type: 'image/png', width: 600, height: 300 }),
      expect.objectContaining({ name: 'invoice.txt', type: 'application/octet-stream' }),
    ]);
    await Promise.all([alice.context.close(), bob.context.close()]);
  }, 120_000);

  it('holds a file chosen offline with its message, across a reload, and sends both when the network is back', async () => {
    const user = userIdsForAttempt();
    const alice = await signedIn(browser, server, user('alice-a2'));
    const bob = await signedIn(browser, server, user('bob-a2'));
    const id = await startDirect(alice.page, user('bob-a2'));
    await openConversation(bob.page, id);

    await alice.context.setOffline(true);
    await waitConnection(alice.page, 'offline');
    await chooseFiles(alice.page, [{ name: 'offline.png', mimeType: 'image/png', buffer: png }]);
    await sendText(alice.page, 'sent from the basement');
    await alice.page.getByTestId('held-uploads').getByText('waiting for the network').waitFor({ timeout: 20_000 });

    await alice.page.reload();
    await alice.page.getByTestId('held-uploads').getByText('offline.png').waitFor({ timeout: 20_000 });
    expect(await messageTexts(bob.page)).toEqual([]);
    const token = await server.token(user('bob-a2'));
    expect((await server.api(`/api/conversations/${id}/messages`, { token })).body.messages).toEqual([]);

    await alice.context.setOffline(false);
    await until(() => previewLoaded(bob.page, 'sent from the basement'), true, { timeout: 30_000, what: "bob's preview of the offline photo" });
    await alice.page.getByTestId('held-uploads').waitFor({ state: 'detached', timeout: 20_000 });
    const messages = (await server.api(`/api/conversations/${id}/messages`, { token })).body.messages;
    expect(messages).toHaveLength(1);
    expect(messages[0].attachments).toEqual([expect.objectContaining({ name: 'offline.png', width: 600, height: 300 })]);
    await Promise.all([alice.context.close(), bob.context.close()]);
  }, 120_000);
});
