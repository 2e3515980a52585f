/**
 * Seeded fuzz of the bounded live document (issue 9, item 2) with SDK
 * replicas on a real server and a tiny window (LIVE_WINDOW_MESSAGES=10:
 * renewed past 20 messages), so window moves happen all the time: each round
 * every replica goes offline or stays online at random, and makes random
 * messages, edits of its own messages (inside or outside the window),
 * reactions and read receipts, while the online ones' messages move the
 * window. At the end: every message is in the history exactly once with its
 * last edit and its reactions, nothing is duplicated, and the replicas agree.
 * Runs fixed regression seeds and one random seed; each prints its seed and
 * the command that reruns it alone (SEED=<n>). Every wait is bounded and, when
 * it runs out, says what each replica holds and waits for (diagnose, trace).
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import * as Y from 'yjs';
import { conversationParts } from '@parley/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from './fixtures/server';
import { createConversation } from './fixtures/clients';
import { testSeed, withSeed } from './fixtures/random';
import { eventually, nodeSession } from '../client/src/testing/nodeClient';
import type { Session } from '../client/src/sdk/Session';
import { unacknowledgedOps } from '../client/src/sdk/unacknowledged';

const FILE = 'e2e/renewal-fuzz.test.ts';
const WINDOW = 10;
const ROUNDS = 5;
const USERS = ['fa', 'fb'] as const;
let server: TestServer;
const sessions: Session[] = [];

beforeAll(async () => {
  server = await startServer({ env: { LIVE_WINDOW_MESSAGES: String(WINDOW) } });
}, 30_000);
afterAll(async () => {
  await Promise.all(sessions.map((s) => s.destroy()));
  await server?.stop();
});

interface Expected {
  text: Map<string, string>;
  reactions: Map<string, Set<string>>;
}

async function history(id: string, reader: string): Promise<Array<{ id: string; text: string; reactions: Record<string, number> }>> {
  const token = await server.token(reader);
  const all: Array<{ id: string; text: string; reactions: Record<string, number> }> = [];
  let cursor: string | null = null;
  do {
    const path = `/api/conversations/${id}/messages?limit=200${cursor ? `&before=${encodeURIComponent(cursor)}` : ''}`;
    let page = await server.api(path, { token });
    // The replicas' own REST calls (outside-window changes and their live announcements) may have
    // used up this user's request budget: a 429 is the contract's answer, so wait as it says.
    for (let tries = 0; page.status === 429 && tries < 20; tries++) {
      await new Promise((r) => setTimeout(r, 1000));
      page = await server.api(path, { token });
    }
    if (page.status !== 200) throw new Error(`history of ${id} as ${reader}: ${page.status} ${JSON.stringify(page.body)}`);
    all.push(...page.body.messages);
    cursor = page.body.nextCursor;
  } while (cursor);
  return all;
}

/** Where the server holds the given messages: its message index, and its live document (snapshot and log). */
function storedState(conversationId: string, messageIds: string[]): string {
  const db = new Database(join(server.dataDir, 'parley.sqlite'), { readonly: true });
  try {
    const doc = new Y.Doc();
    const name = `conversation:${conversationId}`;
    const snapshot = db.prepare('SELECT data FROM doc_snapshots WHERE doc = ?').get(name) as { data: Buffer } | undefined;
    if (snapshot) Y.applyUpdate(doc, snapshot.data);
    for (const row of db.prepare('SELECT data FROM doc_updates WHERE doc = ? ORDER BY seq').all(name) as Array<{ data: Buffer }>) Y.applyUpdate(doc, row.data);
    const live = new Map(conversationParts(doc).messages.toArray().map((m) => [m.get('id') as string, m.get('text') as string]));
    return JSON.stringify(
      messageIds.map((messageId) => {
        const row = db.prepare('SELECT text FROM messages WHERE conversation_id = ? AND id = ?').get(conversationId, messageId) as { text: string } | undefined;
        return { messageId, index: row?.text ?? null, live: live.get(messageId) ?? null };
      }),
    );
  } finally {
    db.close();
  }
}

/** Resolves with `promise`, or throws what `describe` says when it did not settle within `ms`. */
async function bounded<T>(promise: Promise<T>, ms: number, describe: () => string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${describe()}`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Provider and socket events per user, with times: what a stuck replica went through. */
const traces = new Map<string, string[]>();
function trace(user: string, session: Session): void {
  const lines: string[] = [];
  traces.set(user, lines);
  const t0 = Date.now();
  const note = (what: string) => {
    lines.push(`${Date.now() - t0} ${what}`);
    if (lines.length > 120) lines.shift();
  };
  const socket = (session as unknown as { socket: { on(event: string, f: (e: unknown) => void): void; status: string; webSocket: { readyState: number } | null } }).socket;
  for (const event of ['open', 'close', 'disconnect', 'connect']) socket.on(event, () => note(`socket ${event} status=${socket.status} rs=${socket.webSocket?.readyState}`));
  // Messages the socket queues while it is not open (and sends after the next connect): type and document.
  const raw = socket as unknown as { send(message: unknown): void; webSocket: { readyState: number } | null };
  const send = raw.send.bind(raw);
  raw.send = (message: unknown) => {
    if (raw.webSocket?.readyState !== 1 && message instanceof Uint8Array) {
      const length = message[0]!;
      note(`queued type=${message[1 + length]} doc=${new TextDecoder().decode(message.subarray(1, 1 + length)).slice(0, 14)}`);
    }
    send(message);
  };
  const watchProvider = (replica: ReturnType<Session['conversation']>['replica']) => {
    const provider = replica.provider;
    if (!provider) return note(`${replica.name.slice(0, 6)} no provider`);
    note(`${replica.name.slice(0, 6)} provider made`);
    for (const event of ['open', 'authenticated', 'authenticationFailed', 'synced', 'close']) provider.on(event, (e: { reason?: string; event?: { reason?: string } }) => note(`${replica.name.slice(0, 6)} ${event} ${e?.reason ?? e?.event?.reason ?? ''}`));
  };
  const original = session.conversation.bind(session);
  let watched = false;
  session.conversation = (id: string) => {
    const handle = original(id);
    if (!watched) {
      watched = true;
      void handle.replica.whenLoaded().then(() => setTimeout(() => watchProvider(handle.replica), 0));
      handle.replica.on('reset', () => setTimeout(() => watchProvider(handle.replica), 0));
      let synced = false;
      handle.replica.on('change', () => {
        if (handle.replica.serverSynced !== synced) note(`replica serverSynced=${(synced = handle.replica.serverSynced)}`);
      });
      handle.replica.on('closed', (e) => {
        // What the recovery (registered before this listener) makes again: the old replica is still in place here.
        const ops = e.reason === 'document-renewed' ? unacknowledgedOps(handle.replica.doc, handle.replica.ack, user).map((op) => `${op.kind}:${op.id.slice(-4)}`) : [];
        note(`closed ${e.reason}${ops.length ? ` ops=${ops.join(',')}` : ''}`);
      });
    }
    return handle;
  };
}

type Handle = { user: string; session: Session; conversation: ReturnType<Session['conversation']> };
/** What each replica holds and waits for: the state a stuck run is judged by. */
function diagnose(handles: Handle[], what: string): string {
  const states = handles.map(({ user, session, conversation }) => {
    const replica = conversation.replica;
    const snap = conversation.snapshot();
    return {
      user,
      state: session.connection(),
      serverSynced: replica.serverSynced,
      unsynced: replica.unsyncedChanges,
      localChanges: replica.hasLocalChanges,
      epoch: snap.meta?.epoch,
      messages: snap.messages.length,
      pending: snap.pending,
      saving: snap.saving,
      outbox: session.outbox.waiting,
      provider: replica.provider && { authenticated: replica.provider.isAuthenticated, synced: replica.provider.isSynced, attached: replica.provider.isAttached, handshake: replica.provider.handshakeComplete },
      socket: ((ws) => ({ status: ws.status, readyState: ws.webSocket?.readyState }))((session as unknown as { socket: { status: string; webSocket: { readyState: number } | null } }).socket),
      errors: session.errors.slice(-5),
      rejections: session.outboxRejections.map((r) => `${r.change.op} ${r.messageId.slice(-4)} ${r.status} ${r.code}`),
      trace: traces.get(user),
    };
  });
  const log = server.output().split('\n').slice(-60).join('\n');
  return `${what}\n${JSON.stringify(states, null, 1)}\nserver:\n${log}`;
}

/**
 * Seeds run every time, each of which found a defect: 11 and 33 stalled a
 * replica forever under load (a destroyed provider's queued CLOSE closed its
 * successor: ParleyProvider.destroy, ParleyProvider.test.ts); 22 spun replicas
 * on a sealed old epoch that never unloaded (DocumentRenewal.evict) and lost
 * an edit made while its message was being posted again (Reposts); 33 and
 * 1845740674 lost messages a replica took for acknowledged (per-answer
 * acknowledgement in ParleyProvider; a rebuild begun before the previous one
 * replayed, DocReplica.test.ts). Plus one fresh random seed per run (printed;
 * SEED=<n> runs only that one).
 */
const REGRESSION_SEEDS = [11, 33, 22, 1845740674];
const seeds = process.env.SEED ? [testSeed()] : [...REGRESSION_SEEDS, testSeed()];

describe('renewal fuzz', () => {
  it.each(seeds)('seed %i: converges with no loss and no duplicate while the window moves and replicas go offline', async (seed) => {
    console.log(`renewal fuzz seed ${seed} (reproduce: SEED=${seed} ./node_modules/.bin/vitest run ${FILE})`);
    const id = await createConversation(server, `fa${seed}`, [`fb${seed}`]);
    await withSeed(FILE, seed, async (random) => {
      const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
      const started = Date.now();
      const expected: Expected = { text: new Map(), reactions: new Map() };
      const users = USERS.map((u) => `${u}${seed}`);
      const own = new Map<string, string[]>(users.map((u) => [u, []]));
      const live = users.map((user) => {
        const session = nodeSession(server, user);
        sessions.push(session);
        return { user, session };
      });
      for (const { user, session } of live) trace(user, session);
      for (const { session } of live) await session.start();
      const handles = live.map(({ user, session }) => ({ user, session, conversation: session.conversation(id) }));
      for (const h of handles) await eventually(() => h.conversation.snapshot().synced, 20_000, `${h.user} synced`);

      for (let round = 0; round < ROUNDS; round++) {
        const offline = handles.filter(() => random() < 0.5);
        for (const h of offline) h.session.goOffline();
        for (const h of handles) {
          const ops = 3 + Math.floor(random() * (offline.includes(h) ? 8 : 20));
          for (let k = 0; k < ops; k++) {
            const roll = random();
            const mine = own.get(h.user)!;
            if (roll < 0.55 || mine.length === 0) {
              const text = `${h.user} r${round} #${k}`;
              const messageId = h.conversation.send(text);
              mine.push(messageId);
              traces.get(h.user)?.push(`-- send ${messageId.slice(-4)} r${round}`);
              expected.text.set(messageId, text);
            } else if (roll < 0.75) {
              const target = pick(mine);
              const text = `${expected.text.get(target)} (edited r${round})`;
              h.conversation.edit(target, text);
              traces.get(h.user)?.push(`-- edit ${target.slice(-4)} r${round}`);
              expected.text.set(target, text);
            } else if (roll < 0.92) {
              const target = pick(mine);
              const emoji = pick(['👍', '🎉', '👀']);
              h.conversation.react(target, emoji, true);
              const keys = expected.reactions.get(target) ?? new Set();
              keys.add(`${h.user}:${emoji}`);
              expected.reactions.set(target, keys);
            } else {
              h.conversation.markRead();
            }
          }
          // Let the online ones' messages reach the server (and move the window) before the next acts.
          if (!offline.includes(h)) await bounded(h.session.whenSynced(), 30_000, () => diagnose(handles, `round ${round}: ${h.user} synced`));
        }
        for (const h of offline) h.session.goOnline();
        console.log(`round ${round} done at ${Date.now() - started} ms: offline ${offline.map((h) => h.user).join(',') || '-'}, ${expected.text.size} messages`);
      }

      // Everything lands: the replicas synced, the REST queue empty, the history holding every message once.
      await eventually(
        async () => {
          for (const h of handles) if (!h.conversation.snapshot().synced || h.session.outbox.waiting > 0 || h.conversation.snapshot().pending + h.conversation.snapshot().saving > 0) return false;
          const stored = await history(id, users[0]!);
          return [...expected.text.keys()].every((messageId) => stored.some((m) => m.id === messageId && m.text === expected.text.get(messageId)));
        },
        60_000,
        'every message with its last edit in the history',
      ).catch(async (error: Error) => {
        const stored = await history(id, users[0]!);
        const wrong = [...expected.text].filter(([messageId, text]) => !stored.some((m) => m.id === messageId && m.text === text));
        error.message += `\nstored: ${storedState(id, wrong.map(([m]) => m))}`;
        error.message += `\n${wrong.length} of ${expected.text.size} wrong, e.g. ${JSON.stringify(wrong.slice(0, 4).map(([m, t]) => [m, t, stored.find((r) => r.id === m)?.text ?? 'MISSING']))}\n${diagnose(handles, 'at the end')}`;
        throw error;
      });
      const stored = await history(id, users[0]!);
      const ids = stored.map((m) => m.id);
      expect(new Set(ids).size, 'no duplicate in the history').toBe(ids.length);
      expect(ids.length).toBe(expected.text.size);
      for (const [messageId, keys] of expected.reactions) {
        const row = stored.find((m) => m.id === messageId)!;
        for (const key of keys) expect(Object.keys(row.reactions), `${messageId} keeps ${key}`).toContain(key);
      }
      // The replicas agree and show no duplicate; the live window stays bounded.
      await eventually(() => {
        const [a, b] = handles.map((h) => h.conversation.snapshot().messages.map((m) => m.id));
        return JSON.stringify([...a!].sort()) === JSON.stringify([...b!].sort());
      }, 20_000, 'replicas converge');
      for (const h of handles) {
        const view = h.conversation.snapshot().messages.map((m) => m.id);
        expect(new Set(view).size).toBe(view.length);
        expect(view.length).toBeLessThanOrEqual(2 * WINDOW + 40);
        for (const m of h.conversation.snapshot().messages) expect(m.text).toBe(expected.text.get(m.id) ?? m.text);
      }
    });
  }, 180_000);
});
