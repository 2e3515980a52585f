/**
 * Malformed input on the WebSocket: random, truncated and hostile bytes in
 * every message type, text frames, before and after authentication. Whatever
 * arrives, the server closes the socket or the document cleanly or ignores
 * the message; it never crashes, never stalls honest traffic, and stores nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as encoding from 'lib0/encoding';
import * as Y from 'yjs';
import { appendMessage, conversationDocName, inboxDocName } from '@parley/schema';
import { startServer, type TestServer } from './fixtures/server';
import { createConversation } from './fixtures/clients';
import { RawClient, MessageType, SyncType, awarenessUpdate, frames } from './fixtures/rawClient';
import { STALL_MS, healthy, readStored, rejected, startHeartbeat, type Heartbeat, type Stored } from './fixtures/hostile';
import { testSeed, withSeed } from './fixtures/random';

const FILE = 'e2e/hostile-malformed.test.ts';
let server: TestServer;
let heartbeat: Heartbeat;
let doc: string;
let token: string;
let storedBefore: Stored;

beforeAll(async () => {
  server = await startServer();
  heartbeat = await startHeartbeat(server);
  doc = conversationDocName(await createConversation(server, 'mal', ['hal']));
  token = await server.token('mal');
  storedBefore = await readStored(server, 'hal', doc);
});

afterAll(async () => {
  await server?.stop();
});

type Outcome = 'socket-closed' | 'document-closed' | 'ignored';

/**
 * After a hostile frame: did the server close the socket, close the document,
 * or ignore the frame (the document then still answers a sync step 1)?
 */
async function outcome(raw: RawClient, name: string): Promise<Outcome> {
  const from = raw.received.length;
  raw.send(frames.step1(name));
  try {
    const answer = await raw.next((m) => m.doc === name && ((m.type === MessageType.sync && m.subtype === SyncType.step2) || m.type === MessageType.close), from, 3000);
    return answer.type === MessageType.close ? 'document-closed' : 'ignored';
  } catch (error) {
    if (!raw.isOpen) return 'socket-closed';
    // A closed document queues what follows as unauthenticated: no answer, the socket stays.
    if (raw.closeReasons(name).length) return 'document-closed';
    throw error;
  }
}

/** Opens an authenticated socket on the test conversation. */
async function opened(): Promise<RawClient> {
  const raw = await RawClient.connect(server.wsUrl);
  await raw.open(doc, token);
  return raw;
}

const header = (name: string, type: number) => {
  const e = encoding.createEncoder();
  encoding.writeVarString(e, name);
  encoding.writeVarUint(e, type);
  return encoding.toUint8Array(e);
};
const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) out.set(p, (at += p.length) - p.length);
  return out;
};

describe('before authentication', () => {
  it('closes or ignores text frames, empty frames, garbage and truncated auth messages', async () => {
    const cases: Array<[string, Uint8Array | string]> = [
      ['text frame', 'hello'],
      ['empty frame', new Uint8Array()],
      ['only a length', new Uint8Array([200])],
      ['name longer than the frame', concat(new Uint8Array([0xff, 0xff, 0x03]), new TextEncoder().encode('conversation:'))],
      ['invalid UTF-8 name', new Uint8Array([4, 0xc3, 0x28, 0xff, 0xfe, MessageType.auth, 0, 1, 65])],
      ['auth without a token', header(doc, MessageType.auth)],
      ['auth with a truncated token', concat(header(doc, MessageType.auth), new Uint8Array([0, 100, 65, 66]))],
      ['auth with an unknown subtype', concat(header(doc, MessageType.auth), new Uint8Array([7]))],
      ['auth with a huge varint', concat(header(doc, MessageType.auth), new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]))],
      ['a 512 KiB token', frames.auth(doc, 'x'.repeat(512 * 1024))],
      ['a 512 KiB document name', frames.auth('conversation:' + 'x'.repeat(512 * 1024), token)],
      ['a NUL session suffix on someone else\'s inbox', frames.auth(`${inboxDocName('hal')}\0session`, token)],
      ['an update before auth', frames.update(doc, new Uint8Array([1, 2, 3]))],
      ['broadcast-stateless before auth', frames.sync(doc, 0, new Uint8Array(), MessageType.broadcastStateless)],
    ];
    for (const [what, frame] of cases) {
      const raw = await RawClient.connect(server.wsUrl);
      try {
        raw.send(frame);
        // The socket either closes, or still authenticates a proper document afterwards.
        const closedSoon = await Promise.race([raw.closed.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 150))]);
        if (!closedSoon) {
          const answer = await raw.authenticate(inboxDocName('mal'), token).catch((e: Error) => `error: ${e.message}`);
          expect(answer, what).toMatch(/^authenticated$|^error: socket closed/);
        }
        if (what.includes('someone else')) expect(raw.received.find((m) => m.type === MessageType.auth)?.text, what).toBe('forbidden');
      } finally {
        raw.close();
      }
      expect(await healthy(server), what).toBe(true);
    }
  });

  it('survives seeded random bytes as the first frames of many sockets', async () => {
    await withSeed(FILE, testSeed(), async (random) => {
      const bytes = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(random() * 256));
      for (let batch = 0; batch < 10; batch++) {
        const sockets = await Promise.all(Array.from({ length: 10 }, () => RawClient.connect(server.wsUrl)));
        for (const raw of sockets) {
          const n = 1 + Math.floor(random() * 5);
          for (let i = 0; i < n; i++) {
            // Pure noise, or noise behind a real document name and message type.
            const frame = random() < 0.5 ? bytes(Math.floor(random() * 300)) : concat(header(doc, Math.floor(random() * 12)), bytes(Math.floor(random() * 300)));
            raw.send(frame);
          }
        }
        await new Promise((r) => setTimeout(r, 30));
        for (const raw of sockets) raw.close();
        expect(await healthy(server)).toBe(true);
      }
    });
  });
});

describe('after authentication', () => {
  const hostile: Array<[string, (name: string) => Uint8Array]> = [
    ['unknown message type', (n) => header(n, 99)],
    ['huge message type', (n) => concat(new Uint8Array(header(n, 0).subarray(0, -1)), new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f]))],
    ['sync without a subtype', (n) => header(n, MessageType.sync)],
    ['sync with an unknown subtype', (n) => frames.sync(n, 9, new Uint8Array([0, 0]))],
    ['sync step 1 with a garbage state vector', (n) => frames.sync(n, SyncType.step1, new Uint8Array([5, 0xff, 0xff, 0xff]))],
    ['sync step 1 truncated', (n) => concat(header(n, MessageType.sync), new Uint8Array([0, 50, 1]))],
    ['update with garbage bytes', (n) => frames.update(n, new Uint8Array([1, 2, 3, 250, 250, 250]))],
    ['update truncated', (n) => concat(header(n, MessageType.sync), new Uint8Array([2, 100, 1, 1]))],
    ['step 2 with garbage bytes', (n) => frames.step2(n, new Uint8Array([3, 9, 9, 9, 9, 9]))],
    ['sync-reply (4) with garbage', (n) => frames.sync(n, SyncType.update, new Uint8Array([7, 7, 7]), MessageType.syncReply)],
    ['awareness with garbage', (n) => frames.awareness(n, new Uint8Array([3, 1, 2, 3]))],
    ['awareness with invalid JSON', (n) => concat(header(n, MessageType.awareness), awarenessBytes([[1234, 1, '{not json']]))],
    ['awareness truncated', (n) => concat(header(n, MessageType.awareness), new Uint8Array([40, 1]))],
    ['awareness with odd states', (n) => frames.awareness(n, awarenessUpdate([{ clientId: 11, clock: 1, state: 5 }, { clientId: 12, clock: 1, state: ['user', { id: 'hal' }] }, { clientId: 13, clock: 2 ** 40, state: 'x' }]))],
    ['awareness removing someone', (n) => frames.awareness(n, awarenessUpdate([{ clientId: 1, clock: 999, state: null }]))],
    ['query awareness with trailing bytes', (n) => concat(header(n, MessageType.queryAwareness), new Uint8Array([1, 2, 3]))],
    ['stateless without a payload', (n) => header(n, MessageType.stateless)],
    ['stateless with a payload', (n) => frames.stateless(n, '{"type":"x"}')],
    ['broadcast-stateless from a client', (n) => frames.sync(n, 0, new Uint8Array(), MessageType.broadcastStateless)],
    ['auth again', (n) => frames.auth(n, token)],
    ['auth again, truncated', (n) => concat(header(n, MessageType.auth), new Uint8Array([0, 90]))],
    ['sync status from a client', (n) => concat(header(n, 8), new Uint8Array([1]))],
    ['ping and pong from a client', (n) => concat(header(n, 9), header(n, 10))],
    ['close without a reason', (n) => header(n, MessageType.close)],
  ];

  it('closes the document or the socket, or ignores the message, for every hostile message type', async () => {
    const outcomes: Record<string, Outcome> = {};
    for (const [what, build] of hostile) {
      const raw = await opened();
      try {
        raw.send(build(doc));
        outcomes[what] = await outcome(raw, doc);
      } finally {
        raw.close();
      }
      expect(await healthy(server), what).toBe(true);
    }
    console.log(outcomes);
    // The validator names a bad update; Yjs never sees it.
    expect(outcomes['update with garbage bytes']).toBe('document-closed');
    expect(await rejected(server, 'malformed-update')).toBeGreaterThanOrEqual(2);
    expect(await readStored(server, 'hal', doc)).toEqual(storedBefore);
  });

  it('a hostile message on one document leaves the other documents of the socket working', async () => {
    const raw = await opened();
    try {
      const inbox = await raw.open(inboxDocName('mal'), token);
      raw.send(frames.update(doc, new Uint8Array([1, 2, 3, 250, 250, 250])));
      expect(await outcome(raw, doc)).toBe('document-closed');
      expect(await outcome(raw, inbox.name)).toBe('ignored');
      expect(raw.isOpen).toBe(true);
    } finally {
      raw.close();
    }
  });

  it('survives seeded random bytes after a valid header, on authenticated documents', async () => {
    await withSeed(FILE, testSeed(), async (random) => {
      const bytes = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(random() * 256));
      for (let round = 0; round < 20; round++) {
        const raw = await opened();
        try {
          for (let i = 0; i < 10; i++) {
            const type = random() < 0.8 ? Math.floor(random() * 3) : Math.floor(random() * 12);
            const body = type === MessageType.sync && random() < 0.7 ? concat(new Uint8Array([Math.floor(random() * 3)]), bytes(Math.floor(random() * 200))) : bytes(Math.floor(random() * 200));
            raw.send(concat(header(doc, type), body));
          }
          await outcome(raw, doc).catch(() => 'no answer');
        } finally {
          raw.close();
        }
      }
      expect(await healthy(server)).toBe(true);
      expect(await readStored(server, 'hal', doc)).toEqual(storedBefore);
    });
  });
});

/** An awareness message body whose state strings are sent as given (possibly not JSON). */
function awarenessBytes(entries: Array<[number, number, string]>): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeVarUint(e, entries.length);
  for (const [client, clock, state] of entries) {
    encoding.writeVarUint(e, client);
    encoding.writeVarUint(e, clock);
    encoding.writeVarString(e, state);
  }
  const message = encoding.createEncoder();
  encoding.writeVarUint8Array(message, encoding.toUint8Array(e));
  return encoding.toUint8Array(message);
}

describe('after it all', () => {
  it('honest traffic flowed, the process never crashed, and an honest write still works', async () => {
    const beat = await heartbeat.stop();
    console.log(`heartbeat during malformed input: ${beat.sent} messages, max lag ${beat.maxLagMs} ms`);
    expect(beat.received).toBe(beat.sent);
    expect(beat.maxLagMs).toBeLessThan(STALL_MS);
    expect(server.output()).not.toMatch(/uncaught|unhandled|FATAL|Segmentation/i);
    const raw = await RawClient.connect(server.wsUrl);
    try {
      const d = await raw.open(doc, token);
      expect(await d.send(d.change((x: Y.Doc) => appendMessage(x, { id: 'after', author: 'mal', text: 'still fine' })))).toEqual({ applied: true });
    } finally {
      raw.close();
    }
  });
});
