import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readMessages, readReceipts } from '@parley/schema';
import { startServer, type TestServer } from '../../../e2e/fixtures/server';
import { eventually, nodeSession } from '../testing/nodeClient';
import type { Session } from './Session';
import type { DocReplica } from './DocReplica';
import * as Y from 'yjs';
import { recordOutgoing } from '../testing/traceOutgoing';

/**
 * Seeded convergence fuzz: N SDK clients (two of them the same user on two
 * devices) do random operations with random disconnects and reconnects for a
 * fixed budget; then every replica and the server must hold the same thing.
 * Reproduce a failure with the printed command.
 */
const seed = Number(process.env.PARLEY_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const operations = Number(process.env.PARLEY_FUZZ_OPS ?? 300);
// The seed fixes the sequence of operations; network timing still varies between runs.
// PARLEY_FUZZ_TRACE=1 prints the operations and, on a refusal, the frames sent before it.
const reproduce = `PARLEY_FUZZ_SEED=${seed} PARLEY_FUZZ_OPS=${operations} npx vitest run client/src/sdk/convergence.test.ts`;

function mulberry32(state: number): () => number {
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** JSON with sorted keys: Y.Map key order differs between replicas and means nothing. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

let server: TestServer;
const sessions: Session[] = [];

beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await Promise.all(sessions.map((s) => s.destroy()));
  await server?.stop();
});

describe('convergence fuzz', () => {
  it(`N clients, random operations and disconnects, all replicas and the server end identical (seed ${seed})`, async () => {
    const random = mulberry32(seed);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const users = ['f1', 'f2', 'f3', 'f1'];
    const created = await server.api('/api/conversations', {
      token: await server.token('f1'),
      body: { members: ['f2', 'f3'], title: 'fuzz', kind: 'group' },
    });
    const id: string = created.body.id;
    const prefixes = users.map((user, i) => `fuzz:${seed}:${i}:${user}`);
    // Honest clients are never refused: any SDK error fails the run.
    const errors: string[] = [];
    const watched = (session: Session) => {
      const dump = process.env.PARLEY_FUZZ_TRACE ? recordOutgoing(session) : null;
      session.on('error', (e) => {
        if (dump) console.error(`outgoing of ${session.identity.userId} before the refusal:\n${dump()}`);
        errors.push(`${session.identity.userId} ${e.docName}: ${e.reason}`);
        if (process.env.PARLEY_FUZZ_TRACE) console.error(`error at step ${currentStep}: ${session.identity.userId} ${e.reason}`);
      });
      return session;
    };
    users.forEach((user, i) => sessions.push(watched(nodeSession(server, user, { storagePrefix: prefixes[i]! }))));
    await Promise.all(sessions.map((s) => s.start()));
    const chats = sessions.map((s) => s.conversation(id));
    await Promise.all(chats.map((chat) => eventually(() => chat.snapshot().synced, 10_000, 'first sync')));

    const offline = new Set<number>();
    let currentStep = 0;
    const trace = (what: string) => process.env.PARLEY_FUZZ_TRACE && console.error(`step ${currentStep}: ${what}`);
    try {
      for (let step = 0; step < operations; step++) {
        currentStep = step;
        const who = Math.floor(random() * sessions.length);
        const session = sessions[who]!;
        const chat = chats[who]!;
        const me = session.identity.userId;
        const messages = chat.snapshot().messages;
        const own = messages.filter((m) => m.author === me && m.deletedAt === undefined);
        const roll = random();
        if (roll < 0.015) {
          // The app is closed and opened again: state comes back from IndexedDB, pending and all.
          const countBefore = chat.snapshot().messages.length;
          trace(`restart client ${who}`);
          await session.destroy();
          const reopened = watched(nodeSession(server, users[who]!, { storagePrefix: prefixes[who]! }));
          sessions[who] = reopened;
          offline.delete(who);
          await reopened.start();
          chats[who] = reopened.conversation(id);
          await chats[who]!.replica.whenLoaded();
          expect(chats[who]!.snapshot().messages.length).toBeGreaterThanOrEqual(countBefore);
        } else if (roll < 0.08) {
          trace(`${offline.has(who) ? 'online' : 'offline'} client ${who}`);
          if (offline.has(who)) {
            session.goOnline();
            offline.delete(who);
          } else {
            session.goOffline();
            offline.add(who);
          }
        } else if (roll < 0.45 || messages.length === 0) chat.send(`m${step} from ${me}`);
        else if (roll < 0.55 && own.length > 0) chat.edit(pick(own).id, `edited at ${step}`);
        else if (roll < 0.6 && own.length > 0) chat.remove(pick(own).id);
        else if (roll < 0.75) chat.toggleReaction(pick(messages).id, pick(['👍', '🎉', '👀']));
        else if (roll < 0.85) chat.reply(pick(messages).id, `reply ${step}`);
        else if (roll < 0.95) chat.markRead(pick(messages).id);
        else chat.setTyping(random() < 0.5);
        if (random() < 0.3) await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 20)));
      }
      for (const who of offline) sessions[who]!.goOnline();
      await eventually(() => sessions.every((s) => s.connection().state === 'synced'), 20_000, 'every client synced');

      const view = (index: number) => ({ messages: readMessages(chats[index]!.replica.doc), reads: readReceipts(chats[index]!.replica.doc) });
      await eventually(() => sessions.every((_, i) => canonical(view(i)) === canonical(view(0))), 20_000, 'replicas to converge');
      expect(errors).toEqual([]);
      const reference = view(0);
      for (let i = 1; i < sessions.length; i++) expect(view(i)).toEqual(reference);
      expect(chats.every((chat) => chat.snapshot().pending === 0)).toBe(true);
      // Everything local is acknowledged: the ack vectors cover every replica.
      await eventually(() => sessions.every((s) => s.connection().docsWithLocalChanges === 0), 5_000, 'ack vectors to cover everything');

      // A fresh device loads the server's copy of the document: it must be the same too.
      const fresh = nodeSession(server, 'f2');
      sessions.push(fresh);
      await fresh.start();
      const freshChat = fresh.conversation(id);
      await eventually(() => freshChat.snapshot().synced, 10_000, 'the fresh replica');
      const freshView = { messages: readMessages(freshChat.replica.doc), reads: readReceipts(freshChat.replica.doc) };
      expect(canonical(freshView)).toBe(canonical(reference));

      // The server holds the same messages (history API, newest first, paged).
      const token = await server.token('f2');
      const stored: { id: string; text: string; deletedAt?: number; reactions: Record<string, number> }[] = [];
      let cursor: string | null = null;
      do {
        const page = await server.api(`/api/conversations/${id}/messages?limit=200${cursor ? `&before=${cursor}` : ''}`, { token });
        expect(page.status).toBe(200);
        stored.push(...page.body.messages);
        cursor = page.body.nextCursor;
      } while (cursor);
      const summary = (m: { id: string; text: string; deletedAt?: number; reactions: Record<string, number> }) => ({ id: m.id, text: m.text, deleted: m.deletedAt !== undefined, reactions: Object.keys(m.reactions).sort() });
      expect(stored.map(summary).sort((a, b) => a.id.localeCompare(b.id))).toEqual(reference.messages.map(summary).sort((a, b) => a.id.localeCompare(b.id)));
    } catch (error) {
      for (const [i, session] of sessions.entries()) {
        const chat = chats[i]!;
        const mine = readMessages(chat.replica.doc);
        const ref = readMessages(chats[0]!.replica.doc);
        const differing = mine.findIndex((m, k) => canonical(m) !== canonical(ref[k]));
        if (differing >= 0) console.error(`client ${i} first differs at ${differing}: ${JSON.stringify(mine[differing])} vs ${JSON.stringify(ref[differing])}`);
        if (JSON.stringify(readReceipts(chat.replica.doc)) !== JSON.stringify(readReceipts(chats[0]!.replica.doc))) console.error(`client ${i} reads differ: ${JSON.stringify(readReceipts(chat.replica.doc))} vs ${JSON.stringify(readReceipts(chats[0]!.replica.doc))}`);
        for (const [name, replica] of (session as unknown as { replicas: Map<string, DocReplica> }).replicas)
          if (replica.hasLocalChanges) {
            const sv = Y.decodeStateVector(Y.encodeStateVector(replica.doc));
            console.error(`client ${i} local changes in ${name}: ${[...sv].filter(([c, k]) => (replica.ack.get(c) ?? 0) < k).map(([c, k]) => `${c}: doc ${k} ack ${replica.ack.get(c)} (own ${c === replica.doc.clientID})`).join('; ')}`);
          }
        console.error(`client ${i} (${session.identity.userId}): ${JSON.stringify(session.connection())}, ${readMessages(chat.replica.doc).length} messages, synced ${chat.replica.serverSynced}, unsynced ${chat.replica.unsyncedChanges}, authenticated ${chat.replica.provider?.isAuthenticated}`);
      }
      console.error(server.output().split('\n').filter((l) => !l.includes('"level":30')).slice(-15).join('\n'));
      console.error(`convergence fuzz failed with seed ${seed}; reproduce with:\n  ${reproduce}`);
      throw error;
    }
  }, 120_000);
});
