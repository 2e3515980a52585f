/**
 * Cluster mode, its operations (issue 15): two server processes on loopback
 * sharing one PostgreSQL schema and a real Redis. Users on different nodes
 * see each other typing and online; a dead node's users go offline within
 * seconds; /healthz tells a load balancer when a node is ready and when it
 * drains; SIGTERM hands the clients over to the other node with nothing
 * lost; one event posted to both nodes at once has one effect; a node with
 * another JWT_SECRET refuses to start in one line; Redis down degrades only
 * awareness and presence across nodes, and they come back with it. The
 * background work of both nodes (item 4): each push is sent once to a real
 * push service on loopback, and a burst written through both nodes is
 * recomputed by one of them.
 *
 * The shared Redis (127.0.0.1:6379) is used with a key prefix of each test's
 * own; the Redis-down test runs a redis-server of its own on a spare port.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import pg from 'pg';
import { appendMessage, conversationDocName, readMessages } from '@parley/schema';
import { startServer, tempDataDir, type TestServer } from './fixtures/server';
import { connectUser, createConversation, waitFor, type OpenDoc, type UserClient } from './fixtures/clients';
import { startLoadBalancer, type LoadBalancer } from './fixtures/loadBalancer';
import { ownRedis, sparePort, type OwnRedis } from './fixtures/redisServer';
import { notificationsOf } from './fixtures/notifications';
import { startPushService } from './fixtures/pushService';
import { createSchema, dropSchemas, urlWithSchema } from '../sync-server/src/storage/postgres/testDatabase';

const root = resolve(import.meta.dirname, '..');
const SHARED_REDIS = 'redis://127.0.0.1:6379';
const schemas = new Set<string>();
const servers: TestServer[] = [];
const clients: UserClient[] = [];
const balancers: LoadBalancer[] = [];
const redises: OwnRedis[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  for (const b of balancers.splice(0)) await b.close();
  await Promise.all(servers.splice(0).map((s) => s.kill().catch(() => {})));
  for (const r of redises.splice(0)) await r.kill();
});
afterAll(() => dropSchemas(schemas));

interface Cluster {
  schema: string;
  secret: string;
  prefix: string;
  redisUrl: string;
  node(name: string, env?: Record<string, string>): Promise<TestServer>;
}

async function cluster(redisUrl = SHARED_REDIS): Promise<Cluster> {
  const schema = await createSchema('parley_cluster');
  schemas.add(schema);
  const secret = `cluster-secret-${randomBytes(8).toString('hex')}`;
  const prefix = `parley-test-${randomBytes(6).toString('hex')}:`;
  return {
    schema,
    secret,
    prefix,
    redisUrl,
    async node(name, env = {}) {
      const server = await startServer({
        env: { DATABASE_URL: urlWithSchema(schema), REDIS_URL: redisUrl, REDIS_PREFIX: prefix, NODE_ID: name, JWT_SECRET: secret, ...env },
      });
      servers.push(server);
      return server;
    },
  };
}

async function user(server: Pick<TestServer, 'wsUrl' | 'token'>, userId: string): Promise<UserClient> {
  const client = await connectUser(server, userId);
  clients.push(client);
  return client;
}

async function health(server: TestServer): Promise<{ status: number; body: any }> {
  return server.api('/healthz').catch(() => ({ status: 0, body: null }));
}

async function online(server: TestServer, asUser: string, userId: string): Promise<boolean> {
  const response = await server.api(`/api/presence?users=${userId}`, { token: await server.token(asUser) });
  return response.body?.[userId]?.online === true;
}

async function eventually(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** What `userId`'s awareness state in `doc` says, as this client sees it. */
function stateOf(open: OpenDoc, userId: string): Record<string, unknown> | undefined {
  for (const state of open.provider.awareness!.getStates().values()) {
    if ((state as { user?: { id?: string } }).user?.id === userId) return state as Record<string, unknown>;
  }
  return undefined;
}

/** Alice on node `a`, bob on node `b`, both in one new conversation, synced. */
async function aliceAndBobOn(a: TestServer, b: TestServer, others: string[] = []): Promise<{ id: string; alice: UserClient; onA: OpenDoc; onB: OpenDoc }> {
  const id = await createConversation(a, 'alice', ['bob', ...others]);
  const alice = await user(a, 'alice');
  const bob = await user(b, 'bob');
  const onA = alice.open(conversationDocName(id));
  const onB = bob.open(conversationDocName(id));
  await Promise.all([onA.synced, onB.synced]);
  return { id, alice, onA, onB };
}

describe('cluster mode: awareness and presence across nodes', () => {
  it('users on different nodes see each other typing and online; a leaving client and a dead node go offline within seconds', async () => {
    const c = await cluster();
    const [a, b] = await Promise.all([c.node('node-a'), c.node('node-b')]);
    await eventually(async () => (await health(a)).status === 200 && (await health(b)).status === 200, 15_000, 'both nodes ready');
    const { id, alice, onA, onB } = await aliceAndBobOn(a, b, ['carol']);

    onA.provider.setAwarenessField('typing', true);
    await waitFor(() => stateOf(onB, 'alice')?.typing === true, 10_000, 'bob, on node b, sees alice typing on node a');
    onB.provider.setAwarenessField('typing', true);
    await waitFor(() => stateOf(onA, 'bob')?.typing === true, 10_000, 'alice sees bob typing');
    onA.provider.setAwarenessField('typing', false);
    await waitFor(() => stateOf(onB, 'alice')?.typing === false, 10_000, 'bob sees alice stop typing');
    // Online: each node answers for users whose only socket is on the other.
    await eventually(() => online(b, 'bob', 'alice'), 5_000, 'node b says alice (on node a) is online');
    await eventually(() => online(a, 'alice', 'bob'), 5_000, 'node a says bob (on node b) is online');

    // A client that leaves: its state goes from the other node's clients, and it goes offline.
    alice.destroy();
    await waitFor(() => stateOf(onB, 'alice') === undefined, 5_000, "alice's state removed on node b after she left");
    await eventually(async () => !(await online(b, 'bob', 'alice')), 5_000, 'alice offline on node b after she left');

    // A node that dies: kill -9, nothing said. Its users' states and presence expire within seconds.
    const carol = await user(a, 'carol');
    const carolDoc = carol.open(conversationDocName(id));
    await carolDoc.synced;
    carolDoc.provider.setAwarenessField('typing', true);
    await waitFor(() => stateOf(onB, 'carol')?.typing === true, 10_000, 'bob sees carol typing');
    await eventually(() => online(b, 'bob', 'carol'), 5_000, 'carol online on node b');
    const killedAt = Date.now();
    await a.kill();
    await waitFor(() => stateOf(onB, 'carol') === undefined, 15_000, "carol's state removed once node a is dead");
    await eventually(async () => !(await online(b, 'bob', 'carol')), 15_000, 'carol offline once node a is dead');
    const offlineAfterMs = Date.now() - killedAt;
    expect(offlineAfterMs).toBeLessThan(10_000);
    console.log(`cluster: a dead node's user went offline on the other node after ${offlineAfterMs} ms`);
    // Metrics per node.
    const metrics = await b.api('/metrics');
    expect(String(metrics.body)).toMatch(/parley_node_info\{node="node-b"\} 1/);
    expect(String(metrics.body)).toMatch(/parley_connections\{node="node-b"\}/);
  }, 90_000);
});

describe('cluster mode: readiness, draining and hand-over', () => {
  it('SIGTERM drains: /healthz 503 at once, sockets closed with server-going-away, clients carry on through the other node with nothing lost', async () => {
    const c = await cluster();
    const [a, b] = await Promise.all([c.node('node-a', { DRAIN_DELAY_MS: '1500' }), c.node('node-b')]);
    await eventually(async () => (await health(a)).status === 200 && (await health(b)).status === 200, 15_000, 'both nodes ready');
    expect((await health(a)).body).toEqual({ status: 'ok', redis: 'up' });
    const id = await createConversation(a, 'alice', ['bob']);
    const lb = await startLoadBalancer(() => [a.port, b.port]);
    balancers.push(lb);
    await eventually(async () => lb.healthy().length === 2, 5_000, 'the load balancer sees both nodes');
    const alice = await user({ wsUrl: lb.wsUrl, token: (u, o) => a.token(u, o) }, 'alice');
    const doc = alice.open(conversationDocName(id));
    await doc.synced;

    // Writes go on into the drain (node a still serves its sockets during DRAIN_DELAY_MS), one every 20 ms.
    const written: string[] = [];
    let writing = true;
    const writeWhile = async (from: number) => {
      for (let i = from; writing; i++) {
        appendMessage(doc.doc, { id: `m${i}`, author: 'alice', text: `message ${i}` });
        written.push(`m${i}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    let writer = writeWhile(0);
    await new Promise((r) => setTimeout(r, 300));
    const stopping = a.stop();
    await eventually(async () => (await health(a)).status === 503, 1_000, 'node a answers 503 once it drains');
    expect((await health(a)).body).toMatchObject({ status: 'draining' });
    // The raw provider sends a change made while it resyncs before its answer to the new node's
    // sync step 1 (closed with resync-needed there, which this test client does not follow; the SDK
    // reopens and syncs): pause around the close.
    await new Promise((r) => setTimeout(r, 700));
    writing = false;
    await writer;
    await waitFor(() => doc.closeReasons.includes('server-going-away'), 5_000, 'the socket was closed with server-going-away');
    expect(await stopping).toBe(0);
    // The client reconnects through the balancer, to node b, and goes on writing there.
    await waitFor(() => doc.provider.isSynced && alice.socket.status === 'connected', 10_000, 'alice resynced through the balancer');
    writing = true;
    writer = writeWhile(written.length);
    await new Promise((r) => setTimeout(r, 500));
    writing = false;
    await writer;
    await doc.acknowledged(20_000);

    const reader = await user(b, 'bob');
    const read = reader.open(conversationDocName(id));
    await read.synced;
    expect(readMessages(read.doc).map((m) => m.id)).toEqual(written);
    console.log(`cluster drain: ${written.length} messages written across the hand-over, all on node b`);
  }, 90_000);

  it('one event posted to both nodes at once has one effect', async () => {
    const c = await cluster();
    const [a, b] = await Promise.all([c.node('node-a'), c.node('node-b')]);
    const service = await a.token('shop', { roles: ['service'] });
    for (let round = 0; round < 5; round++) {
      const event = { id: `dup-${round}`, type: 'review.created', occurredAt: Date.now(), subject: { type: 'review', id: `r${round}` }, recipients: [`gus${round}`] };
      const answers = await Promise.all([a, b].map((node) => node.api('/api/events', { token: service, body: event })));
      expect(answers.map((r) => r.status).sort()).toEqual([200, 202]);
    }
    const db = new pg.Client({ connectionString: urlWithSchema(c.schema) });
    await db.connect();
    try {
      const rows = await db.query<{ n: string }>("SELECT count(*) AS n FROM jobs WHERE queue = 'event.apply'");
      expect(Number(rows.rows[0]!.n)).toBe(5);
    } finally {
      await db.end();
    }
    // Each recipient is notified once, whichever node applied the event.
    for (let round = 0; round < 5; round++) {
      const list = await notificationsOf(round % 2 ? a : b, `gus${round}`, 1);
      await new Promise((r) => setTimeout(r, 300));
      const again = await notificationsOf(round % 2 ? b : a, `gus${round}`, 1);
      expect([list.length, again.length]).toEqual([1, 1]);
    }
  }, 90_000);

  it('a node with another JWT_SECRET refuses to start, in one line', async () => {
    const c = await cluster();
    await c.node('node-a');
    const keep = Object.fromEntries(Object.entries(process.env).filter(([k]) => ['PATH', 'HOME', 'NODE_OPTIONS'].includes(k)));
    const refused = spawnSync(process.execPath, ['--import', 'tsx', 'sync-server/src/main.ts'], {
      cwd: root,
      env: {
        ...keep,
        NODE_ENV: 'test',
        PORT: '0',
        DATA_DIR: tempDataDir(),
        DATABASE_URL: urlWithSchema(c.schema),
        REDIS_URL: c.redisUrl,
        REDIS_PREFIX: c.prefix,
        JWT_SECRET: `${c.secret}-other`,
      },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(refused.status).toBe(1);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).toContain('JWT_SECRET');
    // REDIS_URL alone (no shared store) is refused in one line too.
    const alone = spawnSync(process.execPath, ['--import', 'tsx', 'sync-server/src/main.ts'], {
      cwd: root,
      env: { ...keep, NODE_ENV: 'test', PORT: '0', DATA_DIR: tempDataDir(), REDIS_URL: c.redisUrl, JWT_SECRET: c.secret },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(alone.status).toBe(1);
    expect(alone.stderr.trim().split('\n')).toHaveLength(1);
    expect(alone.stderr).toContain('REDIS_URL: cluster mode needs DATABASE_URL');
  }, 60_000);
});

describe('cluster mode: Redis down and back', () => {
  it('not ready before Redis is reached; Redis down degrades only awareness and presence across nodes (chat goes on); both come back with it', async () => {
    const redis = ownRedis(await sparePort());
    redises.push(redis);
    const c = await cluster(redis.url);
    const [a, b] = await Promise.all([c.node('node-a'), c.node('node-b')]);
    // Before Redis is reached the nodes answer, but not 200.
    expect(await health(a)).toEqual({ status: 503, body: { status: 'starting', redis: 'down' } });
    await redis.start();
    await eventually(async () => (await health(a)).status === 200 && (await health(b)).status === 200, 10_000, 'both nodes ready once Redis is up');

    const { id, onA, onB } = await aliceAndBobOn(a, b);
    onA.provider.setAwarenessField('typing', 'first');
    await waitFor(() => stateOf(onB, 'alice')?.typing === 'first', 10_000, 'awareness across nodes with Redis up');
    await eventually(() => online(b, 'bob', 'alice'), 5_000, 'alice online on node b');

    await redis.kill();
    await eventually(async () => (await health(a)).body?.redis === 'down', 5_000, 'node a sees Redis down');
    // Still ready: a shared Redis outage must not take every node out of the balancer.
    expect((await health(a)).status).toBe(200);
    // Chat goes on: documents go through PostgreSQL.
    appendMessage(onA.doc, { id: 'during', author: 'alice', text: 'Redis is down, chat is not' });
    await onA.acknowledged(10_000);
    // Awareness across nodes is what degrades: this change does not reach node b. (Node b holds
    // alice's earlier state until node a's presence expires there, DEFAULTS.clusterNodeTtlMs after
    // the outage began, then none: which one it shows by now depends on how long the steps above took.)
    onA.provider.setAwarenessField('typing', 'during');
    await new Promise((r) => setTimeout(r, 1_000));
    expect(stateOf(onB, 'alice')?.typing).not.toBe('during');
    expect([undefined, 'first']).toContain(stateOf(onB, 'alice')?.typing);
    // After one node TTL, presence is each node's own: alice (on a) is offline on b.
    await eventually(async () => !(await online(b, 'bob', 'alice')), 15_000, 'presence degrades to the node itself');

    await redis.start();
    // Back: every node re-publishes its own states and presence at once.
    await waitFor(() => stateOf(onB, 'alice')?.typing === 'during', 10_000, 'awareness state caught up after Redis is back');
    onA.provider.setAwarenessField('typing', 'after');
    await waitFor(() => stateOf(onB, 'alice')?.typing === 'after', 10_000, 'awareness across nodes again');
    await eventually(() => online(b, 'bob', 'alice'), 10_000, 'alice online on node b again');
    expect((await health(b)).body).toEqual({ status: 'ok', redis: 'up' });

    // What was written during the outage is stored.
    const check = await a.api(`/api/conversations/${id}/messages?limit=10`, { token: await a.token('alice') });
    expect(check.body.messages.map((m: { id: string }) => m.id)).toEqual(['during']);
  }, 120_000);
});

/** `parley_chat_recomputes_total` of one node, by outcome. */
async function recomputes(node: TestServer): Promise<Record<string, number>> {
  const text = await (await fetch(`${node.httpUrl}/metrics`)).text();
  const counts: Record<string, number> = {};
  for (const [, outcome, value] of text.matchAll(/^parley_chat_recomputes_total\{[^}]*outcome="(\w+)"[^}]*\} (\d+)/gm)) counts[outcome!] = Number(value);
  return counts;
}

describe('cluster mode: background work on two nodes', () => {
  it('each notification is pushed once, whichever node its event reached, while both nodes run the delivery queue', async () => {
    const push = await startPushService();
    try {
      const c = await cluster();
      const env = { PUSH_AFTER_MS: '300', NODE_EXTRA_CA_CERTS: push.caFile, PUSH_ENDPOINT_HOSTS: push.host, DELIVERY_REQUEST_TIMEOUT_MS: '1500' };
      const [a, b] = await Promise.all([c.node('node-a', env), c.node('node-b', env)]);
      const device = push.device();
      expect((await a.api('/api/push/subscriptions', { token: await a.token('dee'), body: device.subscription })).status).toBe(201);
      const service = await a.token('shop', { roles: ['service'] });
      const ids: string[] = [];
      for (let i = 0; i < 12; i++) {
        const id = `push-${i}-${randomBytes(3).toString('hex')}`;
        const event = { id, type: 'review.created', occurredAt: Date.now(), subject: { type: 'review', id }, recipients: ['dee'] };
        expect((await (i % 2 ? b : a).api('/api/events', { token: service, body: event })).status).toBe(202);
        ids.push(`evt:${id}`);
      }
      const received = () => push.received.filter((r) => r.device === device.id);
      await waitFor(() => received().length >= ids.length, 20_000, 'a push for every notification');
      // Past every retry and lease a duplicate would need to show.
      await new Promise((r) => setTimeout(r, 2_000));
      expect(received().map((r) => (r.payload as { id: string }).id).sort()).toEqual([...ids].sort());
      const sent = async (node: TestServer) => Number(/parley_deliveries_total\{channel="push",outcome="sent"[^}]*\} (\d+)/.exec(await (await fetch(`${node.httpUrl}/metrics`)).text())?.[1] ?? 0);
      const perNode = [await sent(a), await sent(b)];
      expect(perNode[0]! + perNode[1]!).toBe(ids.length);
      console.log(`cluster push: ${ids.length} notifications, ${received().length} pushes, sent by node a / b: ${perNode.join(' / ')}`);
    } finally {
      await push.close();
    }
  }, 90_000);

  it('a recurring job fired by both nodes runs once per slot', async () => {
    const c = await cluster();
    await Promise.all([c.node('node-a', { CLEANUP_INTERVAL_MS: '1000' }), c.node('node-b', { CLEANUP_INTERVAL_MS: '1000' })]);
    const db = new pg.Client({ connectionString: urlWithSchema(c.schema) });
    await db.connect();
    try {
      const runs = async () => (await db.query<{ created_at: string }>("SELECT created_at FROM jobs WHERE queue = 'cleanup' ORDER BY created_at")).rows.map((r) => Number(r.created_at));
      await eventually(async () => (await runs()).length >= 5, 20_000, 'five slots of the clean-up');
      const slots = (await runs()).map((at) => Math.floor(at / 1000));
      // Both nodes tick the schedule every slot; one of them fires it.
      expect(new Set(slots).size).toBe(slots.length);
    } finally {
      await db.end();
    }
  }, 60_000);

  it('a burst written through both nodes is recomputed by the node that claimed it; the other finds the claim and runs nothing', async () => {
    const c = await cluster();
    const [a, b] = await Promise.all([c.node('node-a'), c.node('node-b')]);
    // A big room, so the first recompute (every inbox loaded and written) is still running when carol writes.
    const crowd = Array.from({ length: 300 }, (_, i) => `member${i}`);
    const id = await createConversation(a, 'alice', ['bob', 'carol', ...crowd]);
    const alice = await user(a, 'alice');
    const carol = await user(b, 'carol');
    const onA = alice.open(conversationDocName(id));
    const onB = carol.open(conversationDocName(id));
    await Promise.all([onA.synced, onB.synced]);
    const before = { a: await recomputes(a), b: await recomputes(b) };
    appendMessage(onA.doc, { id: 'from-a', author: 'alice', text: 'first, through node a' });
    await onA.acknowledged(10_000);
    await new Promise((r) => setTimeout(r, 100));
    appendMessage(onB.doc, { id: 'from-b', author: 'carol', text: 'second, through node b' });
    await onB.acknowledged(10_000);
    // Bob was told once, about both messages: node a took carol's message into its burst.
    const token = await a.token('bob');
    const waitStart = Date.now();
    let seen = 'nothing yet';
    // Each recompute loads and writes 300 inboxes, and two 1.5 s graces pass: ~8 s on a quiet
    // machine, and a CI run of the whole suite once took over 20 s. The wait is not what is tested.
    await eventually(async () => {
      const list = (await a.api('/api/notifications?limit=50', { token })).body.notifications as Array<{ kind: string; count: number; data: { messageId: string } }>;
      const chat = list.filter((n) => n.kind === 'new_message');
      seen = JSON.stringify(chat.map((n) => ({ count: n.count, messageId: n.data.messageId })));
      return chat.length === 1 && chat[0]!.count === 2 && chat[0]!.data.messageId === 'from-b';
    }, 60_000, "bob's one notification about both messages").catch(async (error: unknown) => {
      throw new Error(`${String(error)}; bob's chat notifications: ${seen}; recomputes a ${JSON.stringify(await recomputes(a))}, b ${JSON.stringify(await recomputes(b))}`);
    });
    const after = { a: await recomputes(a), b: await recomputes(b) };
    const delta = (node: 'a' | 'b', outcome: string) => (after[node][outcome] ?? 0) - (before[node][outcome] ?? 0);
    console.log(`cluster recompute: bob notified after ${Date.now() - waitStart} ms; node a ran ${delta('a', 'ran')}, node b ran ${delta('b', 'ran')} and found the claim busy ${delta('b', 'busy')} time(s)`);
    expect(delta('b', 'ran')).toBe(0);
    expect(delta('b', 'busy')).toBeGreaterThanOrEqual(1);
    expect(delta('a', 'ran')).toBeGreaterThanOrEqual(1);
  }, 150_000);
});
