/**
 * A conversation holding malformed messages (a date far out of range, fields
 * of the wrong type, fields missing) and an inbox holding a malformed
 * notification: the web app shows what it can and keeps working, for the
 * member whose replica already had the conversation and for a fresh one.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import type { Page } from 'playwright-core';
import { conversationDocName, conversationParts, inboxDocName, inboxParts } from '@parley/schema';
import { appServerAndBrowser, messageTexts, send, signedIn, startDirect, until, userIdsForAttempt, waitConnection } from '../fixtures/browser';
import { writeBehindServer } from '../fixtures/tamper';

const env = appServerAndBrowser();

/** A message map with exactly these fields, nothing checked. */
function rawMessage(fields: Record<string, unknown>): Y.Map<unknown> {
  const map = new Y.Map<unknown>();
  for (const [key, value] of Object.entries(fields)) map.set(key, value);
  return map;
}

const rootText = (page: Page) => page.evaluate(() => document.getElementById('root')?.innerText ?? '');

describe('malformed documents', () => {
  it('one bad message (createdAt 1e300, wrong types, missing fields) never blanks the app', async () => {
    const { server, browser } = env;
    const name = userIdsForAttempt();
    const [alice, bob] = [name('bad-alice'), name('bad-bob')];
    const errors: string[] = [];
    const first = await signedIn(browser, server, alice);
    first.page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    const id = await startDirect(first.page, bob);
    await send(first.page, 'before the bad ones');
    await until(() => messageTexts(first.page), ['before the bad ones']);
    await until(() => first.page.getByTestId('message').first().getAttribute('data-status'), 'sent');

    await writeBehindServer(server, conversationDocName(id), (doc) => {
      const messages = conversationParts(doc).messages;
      const reactions = () => new Y.Map<unknown>();
      messages.push([
        rawMessage({ id: 'far-future', author: bob, kind: 'text', text: 'from the year 1e300', createdAt: 1e300, reactions: reactions() }),
        rawMessage({ id: 'wrong-types', author: 42, kind: 'text', text: { not: 'text' }, createdAt: 'yesterday', reactions: 'many', replyTo: 7, attachments: 'none' }),
        rawMessage({ id: 'nearly-empty' }),
        rawMessage({ id: 'negative', author: bob, kind: 'text', text: 'before 1970', createdAt: -1e20, reactions: reactions(), editedAt: Number.NaN }),
      ]);
    });
    await writeBehindServer(server, inboxDocName(alice), (doc) => {
      const n = new Y.Map<unknown>();
      for (const [key, value] of Object.entries({ id: 'bad-n', kind: 'system', title: 'Odd', body: 'dated 1e300', createdAt: 1e300, updatedAt: 1e300, count: 'x', data: null, readAt: null, seenAt: null, archivedAt: null })) n.set(key, value);
      inboxParts(doc).notifications.set('bad-n', n);
    });

    // Alice's open app syncs the bad messages in: the timeline stays, with every message it can show.
    await waitConnection(first.page, 'synced', 30_000);
    await until(async () => (await messageTexts(first.page)).includes('from the year 1e300'), true, { timeout: 20_000, what: 'the far-future message' });
    expect(await messageTexts(first.page)).toContain('before the bad ones');
    expect(await messageTexts(first.page)).toContain('before 1970');
    await send(first.page, 'still talking');
    await until(async () => (await messageTexts(first.page)).includes('still talking'), true);
    // The inbox shows the odd notification too.
    await first.page.goto(`${server.httpUrl}/#/inbox`);
    await first.page.getByTestId('notification').filter({ hasText: 'dated 1e300' }).waitFor();

    // Bob, on a fresh device, opens the same conversation.
    const second = await signedIn(browser, server, bob);
    await second.page.goto(`${server.httpUrl}/#/c/${id}`);
    await until(async () => (await messageTexts(second.page)).includes('still talking'), true, { timeout: 20_000, what: "bob's timeline" });
    expect(await rootText(second.page)).toContain('from the year 1e300');
    await send(second.page, 'bob is fine too');
    await first.page.goto(`${server.httpUrl}/#/c/${id}`);
    await until(async () => (await messageTexts(first.page)).includes('bob is fine too'), true, { timeout: 20_000, what: 'the reply at alice' });
    expect(errors.filter((e) => e.includes('Content Security Policy'))).toEqual([]);
    await first.context.close();
    await second.context.close();
  }, 120_000);
});
