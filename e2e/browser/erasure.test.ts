/**
 * Erasure reaches the other replicas (issue 14, item 5: "other replicas once
 * they sync"), in Chromium against a real server. Bob's tab holds Alice's
 * message in its IndexedDB replicas (the conversation's update log, and his
 * inbox's chat notification and conversation summary quoting it). Alice
 * deletes it; then every object store of every database of Bob's origin is
 * read raw (keys and values, bytes as bytes) and the text is in none of
 * them, also after a reload. Before the deletion the same read finds it,
 * so the check can fail.
 */
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { appServerAndBrowser, messageAction, messageByText, openConversation, send, signedIn, until, userIdsForAttempt } from '../fixtures/browser';

const both = appServerAndBrowser();

/** The names of the databases of the page's origin whose raw contents hold `word` (keys, values; byte arrays read as bytes). */
function databasesHolding(page: Page, word: string): Promise<string[]> {
  return page.evaluate(async (needle: string) => {
    const asText = (value: unknown): string => {
      if (value instanceof ArrayBuffer) return asText(new Uint8Array(value));
      if (ArrayBuffer.isView(value)) {
        const bytes = new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
        let text = '';
        for (let i = 0; i < bytes.length; i += 8192) text += String.fromCharCode(...bytes.subarray(i, i + 8192));
        return text;
      }
      if (value instanceof Blob) return '[blob]';
      if (Array.isArray(value)) return value.map(asText).join('\n');
      if (value !== null && typeof value === 'object') return Object.entries(value).map(([k, v]) => `${k}=${asText(v)}`).join('\n');
      return String(value);
    };
    const dump = (name: string) =>
      new Promise<string>((resolve, reject) => {
        const open = indexedDB.open(name);
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const db = open.result;
          const stores = [...db.objectStoreNames];
          if (stores.length === 0) return (db.close(), resolve(''));
          const tx = db.transaction(stores, 'readonly');
          const parts: string[] = [];
          for (const store of stores) {
            const keys = tx.objectStore(store).getAllKeys();
            const values = tx.objectStore(store).getAll();
            keys.onsuccess = () => parts.push(asText(keys.result));
            values.onsuccess = () => parts.push(asText(values.result));
          }
          tx.oncomplete = () => (db.close(), resolve(parts.join('\n')));
          tx.onerror = () => reject(tx.error);
        };
      });
    const names = (await indexedDB.databases()).map((d) => d.name).filter((n): n is string => typeof n === 'string');
    const holding: string[] = [];
    for (const name of names.sort()) if ((await dump(name)).includes(needle)) holding.push(name);
    return holding;
  }, word);
}

/** A conversation `owner` made with `member`, a fresh secret word, and the owner's token. */
async function twoOf(owner: string, member: string, title: string, word: string): Promise<{ id: string; token: string; secret: string }> {
  const token = await both.server.token(owner);
  const created = await both.server.api('/api/conversations', { token, body: { members: [member], title } });
  expect(created.status).toBe(201);
  return { id: created.body.id as string, token, secret: `${word}${Math.random().toString(36).slice(2, 10)}` };
}

describe('erasure on other replicas', () => {
  it("a message another member deleted leaves Bob's IndexedDB: conversation log, inbox notification and summary", async () => {
    const user = userIdsForAttempt();
    const [alice, bob] = [user('alice-er'), user('bob-er')];
    const { id, token, secret } = await twoOf(alice, bob, 'Erasure', 'wombat');
    const { context, page } = await signedIn(both.browser, both.server, bob);
    try {
      // Bob's tab is on the list, not in the conversation: his inbox gets a chat notification quoting the message.
      await page.getByTestId(`conversation-${id}`).waitFor();
      expect((await both.server.api(`/api/conversations/${id}/messages`, { token, body: { id: 'doomed', text: `the alarm code is ${secret}` } })).status).toBe(201);
      const conversationDb = `parley:${bob}:conversation:${id}`;
      const inboxDb = `parley:${bob}:inbox:${bob}`;
      // The chat notification quotes the newest unread message. Waited for before "kept" is posted: a
      // replica that first syncs after both would never have held the quote (the server keeps no
      // overwritten text), and the test would be about nothing.
      await until(async () => (await databasesHolding(page, secret)).filter((n) => n === conversationDb || n === inboxDb).sort(), [conversationDb, inboxDb].sort(), {
        timeout: 20_000,
        what: "the secret in Bob's replicas",
      });
      // "kept" replaces the quote: the secret is now only in the inbox replica's log, which the erasure must reach too.
      expect((await both.server.api(`/api/conversations/${id}/messages`, { token, body: { id: 'kept', text: 'this one stays' } })).status).toBe(201);
      await until(async () => (await databasesHolding(page, 'this one stays')).includes(inboxDb), true, { timeout: 20_000, what: "the newer quote in Bob's inbox replica" });

      expect((await both.server.api(`/api/conversations/${id}/messages/doomed`, { token, method: 'DELETE' })).status).toBe(200);
      await until(() => databasesHolding(page, secret), [], { timeout: 20_000, what: "no database of Bob's holding the secret" });

      // After a reload the replicas load without it, and the conversation shows the deletion and the message that stayed.
      await page.reload();
      await openConversation(page, id);
      await messageByText(page, 'this one stays').waitFor();
      await page.getByText('Message deleted').first().waitFor();
      expect(await databasesHolding(page, secret)).toEqual([]);
      expect(await databasesHolding(page, 'this one stays')).toContain(conversationDb);
    } finally {
      await context.close();
    }
  }, 120_000);

  it('a message deleted in this tab leaves its IndexedDB too', async () => {
    const user = userIdsForAttempt();
    const [carl, dora] = [user('carl-er'), user('dora-er')];
    const { id, secret } = await twoOf(carl, dora, 'Own erasure', 'numbat');
    const { context, page } = await signedIn(both.browser, both.server, carl);
    try {
      await openConversation(page, id);
      await send(page, `my pin is ${secret}`);
      const conversationDb = `parley:${carl}:conversation:${id}`;
      // In the conversation's log, and in his inbox's summary of it (its last message).
      await until(async () => (await databasesHolding(page, secret)).includes(conversationDb), true, { timeout: 20_000, what: "the secret in Carl's replica" });
      await messageAction(messageByText(page, `my pin is ${secret}`), 'Delete…');
      await page.getByText('Message deleted').first().waitFor();
      await until(() => databasesHolding(page, secret), [], { timeout: 20_000, what: "no database of Carl's holding the secret" });
    } finally {
      await context.close();
    }
  }, 120_000);

  it('a compaction owed when the tab went away runs at the next load', async () => {
    const user = userIdsForAttempt();
    const [erin, fay] = [user('erin-er'), user('fay-er')];
    const { id, token, secret } = await twoOf(fay, erin, 'Closed tab', 'quokka');
    const { context, page } = await signedIn(both.browser, both.server, erin);
    try {
      await page.getByTestId(`conversation-${id}`).waitFor();
      expect((await both.server.api(`/api/conversations/${id}/messages`, { token, body: { id: 'doomed', text: `the safe opens with ${secret}` } })).status).toBe(201);
      const conversationDb = `parley:${erin}:conversation:${id}`;
      await until(async () => (await databasesHolding(page, secret)).includes(conversationDb), true, { timeout: 20_000, what: "the secret in Erin's replica" });
      // The page's timers stop: the deletion arrives and is stored, its compaction is owed, and the tab goes away before it runs.
      await context.clock.install();
      await context.clock.pauseAt(Date.now() + 50);
      expect((await both.server.api(`/api/conversations/${id}/messages/doomed`, { token, method: 'DELETE' })).status).toBe(200);
      const owed = (tab: Page) => tab.evaluate(async (name: string) => new Promise<boolean>((resolve) => {
        const open = indexedDB.open(name);
        open.onsuccess = () => {
          const get = open.result.transaction('custom', 'readonly').objectStore('custom').get('parley:compaction-pending');
          get.onsuccess = () => (open.result.close(), resolve(get.result !== undefined));
          get.onerror = () => (open.result.close(), resolve(false));
        };
        open.onerror = () => resolve(false);
      }), conversationDb);
      await until(() => owed(page), true, { timeout: 20_000, what: 'the compaction marked as owed' });
      expect(await databasesHolding(page, secret)).toContain(conversationDb);
      await page.close();

      const next = await context.newPage();
      await context.clock.resume();
      await next.goto(both.server.httpUrl);
      await next.getByTestId(`conversation-${id}`).waitFor();
      await until(() => databasesHolding(next, secret), [], { timeout: 20_000, what: "no database of Erin's holding the secret after the reload" });
      await until(() => owed(next), false, { timeout: 10_000, what: 'the owed mark gone' });
    } finally {
      await context.close();
    }
  }, 120_000);
});
