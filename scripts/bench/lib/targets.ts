/**
 * One adapter per benchmarked server: how to make a conversation and connect
 * a client. Parley needs conversations created over HTTP (membership is
 * enforced); the baselines accept any room name, so creation is a no-op.
 */
import { isDocumentRenewal } from '@parley/schema';
import type { ChatClient, ConnectOptions } from './client';
import { connectIo, joinManyIo } from './ioclient';
import type { BenchServer, TargetName } from './server';
import { connectWire, type WireSubscriber } from './wiresubscriber';
import { connectY, openManyY } from './yclient';

/** A silent member that only reports which messages reached it. */
export interface Subscriber {
  /** Called with the ids (those matching the subscription's pattern) of messages that arrived. */
  onIds: ((ids: string[]) => void) | null;
  /** Why it stopped receiving (a close it does not follow), or null while it receives. */
  lost(): string | null;
  /** Renewals it followed (Parley's `document-renewed`). */
  renewals(): number;
  close(): void;
}

export interface Target {
  name: TargetName;
  server: BenchServer;
  createConversation(members: readonly string[]): Promise<string>;
  connect(user: string, conversation: string, options?: ConnectOptions): Promise<ChatClient>;
  /** A client on any document (`inbox:<user>`); for the relay, a room of that name. */
  connectDocument(user: string, documentName: string, options?: ConnectOptions): Promise<ChatClient>;
  /**
   * A silent subscriber as cheap for the load generator as the protocol allows (see wiresubscriber.ts).
   * `pattern` (global) matches message ids; for wire subscribers it is searched in the raw update bytes.
   */
  subscribe(user: string, conversation: string, timeoutMs: number, pattern: RegExp): Promise<Subscriber>;
  /** Whether the server holds a message of this id (Parley's GET .../messages/:messageId); baselines never renew, so never asked. */
  holdsMessage(conversation: string, reader: string, messageId: string): Promise<boolean>;
  /** One connection holding many conversations open. */
  openMany(user: string, conversations: readonly string[], timeoutMs: number): Promise<{ close(): void }>;
  /**
   * Writes `count` messages of history as `author`, in batches, without keeping anything open.
   * Stops early once `deadlineMs` has passed; resolves with how many were written.
   */
  seed(conversation: string, author: string, count: number, options?: { text?: (i: number) => string; deadlineMs?: number }): Promise<number>;
}

export const SERVICE_USER = 'bench-service';
/** Parley's create call takes this many members; the rest are added one by one. */
const MEMBERS_PER_CREATE = 500;

let counter = 0;
const freshId = (prefix: string): string => `${prefix}${Date.now().toString(36)}${(counter++).toString(36)}`;

async function api(server: BenchServer, path: string, body: unknown): Promise<{ status: number; body: unknown }> {
  const token = await server.token(SERVICE_USER, ['service']);
  const response = await fetch(`${server.httpUrl}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: response.status, body: parsed };
}

async function createParleyConversation(server: BenchServer, members: readonly string[]): Promise<string> {
  const first = members.slice(0, MEMBERS_PER_CREATE);
  const created = await api(server, '/api/conversations', { members: first, title: 'bench', kind: 'group' });
  const id = (created.body as { id?: unknown })?.id;
  if ((created.status !== 201 && created.status !== 200) || typeof id !== 'string') {
    throw new Error(`POST /api/conversations answered ${created.status}: ${JSON.stringify(created.body).slice(0, 300)}`);
  }
  const rest = members.slice(MEMBERS_PER_CREATE);
  for (let i = 0; i < rest.length; i += 20) {
    await Promise.all(
      rest.slice(i, i + 20).map(async (userId) => {
        const added = await api(server, `/api/conversations/${id}/members`, { userId });
        if (added.status >= 300) throw new Error(`adding ${userId} answered ${added.status}: ${JSON.stringify(added.body).slice(0, 200)}`);
      }),
    );
  }
  return id;
}

interface SeedRun {
  prefix: string;
  /** Index of the first message to write; ids are `${prefix}-${i}`. */
  from: number;
  count: number;
  text: (i: number) => string;
  deadline: number;
}

/**
 * Writes messages `from`..`count` on one connection, a few batches in flight, then closes the writer.
 * Resolves with how many are written, or 'renewed' as soon as `renewal` does (the sends in flight
 * then never get an answer on this connection).
 */
async function seedEpoch(writer: ChatClient, run: SeedRun, renewal: Promise<'renewed'> = new Promise(() => {})): Promise<number | 'renewed'> {
  // A few batches in flight keep the pipe full without queueing the whole history in memory.
  const inFlight = new Set<Promise<void>>();
  const settle = (wait: Promise<unknown>): Promise<unknown> => Promise.race([wait, renewal]);
  try {
    for (let start = run.from; start < run.count; start += SEED_BATCH) {
      if (performance.now() > run.deadline) return (await settle(Promise.all(inFlight))) === 'renewed' ? 'renewed' : start;
      const batch = [];
      for (let i = start; i < Math.min(run.count, start + SEED_BATCH); i++) batch.push({ id: `${run.prefix}-${i}`, text: run.text(i) });
      const sent = writer.sendBatch(batch).then(() => void inFlight.delete(sent));
      inFlight.add(sent);
      if (inFlight.size >= 4 && (await settle(Promise.race(inFlight))) === 'renewed') return 'renewed';
    }
    return (await settle(Promise.all(inFlight))) === 'renewed' ? 'renewed' : run.count;
  } finally {
    writer.close();
  }
}

/** How many messages of this seeding the server holds: one past the newest one's number, from Parley's history API. */
async function newestSeeded(server: BenchServer, conversation: string, reader: string, prefix: string): Promise<number> {
  const token = await server.token(reader);
  const response = await fetch(`${server.httpUrl}/api/conversations/${conversation}/messages?limit=1`, { headers: { authorization: `Bearer ${token}` } });
  if (!response.ok) throw new Error(`GET .../messages?limit=1 answered ${response.status}`);
  const newest = ((await response.json()) as { messages?: Array<{ id?: string }> }).messages?.[0]?.id ?? '';
  return newest.startsWith(`${prefix}-`) ? Number(newest.slice(prefix.length + 1)) + 1 : 0;
}

/** Seeding: batches for speed; 200 messages keep each update far under Parley's 1 MiB limit and its per-update validation cheap. */
const SEED_BATCH = 200;
const defaultText = (i: number): string => `history message ${i} lorem ipsum dolor sit amet`;

export function makeTarget(server: BenchServer): Target {
  const target: Target = {
    name: server.name,
    server,
    async createConversation(members) {
      if (server.name === 'parley') return createParleyConversation(server, members);
      return freshId('c');
    },
    connect(user, conversation, options = {}) {
      return target.connectDocument(user, `conversation:${conversation}`, options);
    },
    async connectDocument(user, documentName, options = {}) {
      const token = await server.token(user);
      if (server.name === 'socketio') return connectIo(user, { ...options, url: server.httpUrl, room: documentName, token });
      return connectY(user, { ...options, url: server.wsUrl, documentName, token });
    },
    async subscribe(user, conversation, timeoutMs, pattern) {
      let lost: string | null = null;
      let renewals = 0;
      let stop = (): void => {};
      const subscriber: Subscriber = { onIds: null, lost: () => lost, renewals: () => renewals, close: () => stop() };
      if (server.name === 'socketio') {
        const client = await target.connect(user, conversation, { timeoutMs });
        client.onMessage = (message) => {
          pattern.lastIndex = 0;
          if (pattern.test(message.id)) subscriber.onIds?.([message.id]);
        };
        stop = () => client.close();
        return subscriber;
      }
      const documentName = `conversation:${conversation}`;
      const token = await server.token(user);
      // Parley renews the document (CONTRACT-NOTES "Bounded live document"): a fresh subscriber
      // syncs the new epoch's window, whose sync step 2 holds what arrived meanwhile.
      const attach = async (reopened: boolean): Promise<void> => {
        let wire: WireSubscriber | null = null;
        wire = await connectWire({
          url: server.wsUrl,
          documentName,
          token,
          timeoutMs,
          reportSync: reopened,
          onUpdate: (frame) => {
            // Yjs stores strings verbatim in updates: the ids are readable in the bytes.
            const ids = frame.toString('latin1').match(pattern);
            if (ids) subscriber.onIds?.(ids);
          },
          onClose: (why) => {
            wire?.close();
            if (!isDocumentRenewal(why)) return void (lost = `closed: ${why.code ?? ''} ${why.reason}`);
            renewals++;
            attach(true).catch((error: unknown) => (lost = `reopening after a renewal failed: ${String(error)}`));
          },
        });
        stop = () => wire?.close();
      };
      await attach(false);
      return subscriber;
    },
    async holdsMessage(conversation, reader, messageId) {
      if (server.name !== 'parley') throw new Error(`${server.name} has no message lookup (it never renews a document)`);
      const response = await fetch(`${server.httpUrl}/api/conversations/${conversation}/messages/${encodeURIComponent(messageId)}`, {
        headers: { authorization: `Bearer ${await server.token(reader)}` },
      });
      if (response.status !== 200 && response.status !== 404) throw new Error(`GET .../messages/${messageId} answered ${response.status}`);
      return response.status === 200;
    },
    async openMany(user, conversations, timeoutMs) {
      const token = await server.token(user);
      const names = conversations.map((id) => `conversation:${id}`);
      if (server.name === 'socketio') return joinManyIo({ url: server.httpUrl, token, rooms: names, timeoutMs });
      return openManyY({ url: server.wsUrl, token, names, timeoutMs });
    },
    async seed(conversation, author, count, options = {}) {
      const text = options.text ?? defaultText;
      const deadline = performance.now() + (options.deadlineMs ?? Number.POSITIVE_INFINITY);
      const prefix = freshId('h');
      if (server.name !== 'parley') return (await seedEpoch(await target.connect(author, conversation, { timeoutMs: 600_000 }), { prefix, from: 0, count, text, deadline })) as number;
      // Parley renews its live document (issue 9, item 2): the writer's document is closed with
      // document-renewed and its replica, of a retired epoch, is refused. Each epoch gets a fresh
      // replica on a fresh connection, from the newest message the server took in.
      let from = 0;
      while (from < count && performance.now() <= deadline) {
        let renewed: () => void = () => {};
        const renewal = new Promise<'renewed'>((done) => (renewed = () => done('renewed')));
        const writer = await target.connect(author, conversation, { timeoutMs: 600_000, onClose: (event) => isDocumentRenewal(event) && renewed() });
        const ended = await seedEpoch(writer, { prefix, from, count, text, deadline }, renewal);
        from = ended === 'renewed' ? await newestSeeded(server, conversation, author, prefix) : ended;
      }
      return from;
    },
  };
  return target;
}
