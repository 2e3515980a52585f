import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conversationDocName, readMessages } from '@parley/schema';
import { startServer, type TestServer } from './fixtures/server';
import { connectUser, waitFor } from './fixtures/clients';

let server: TestServer;
let alice: string;
let bob: string;
let carol: string;
beforeAll(async () => {
  server = await startServer();
  [alice, bob, carol] = await Promise.all(['alice', 'bob', 'carol'].map((u) => server.token(u)));
});
afterAll(async () => {
  await server.stop();
});

const expectError = (response: { status: number; body: any }, status: number, code?: string) => {
  expect(response.status).toBe(status);
  expect(typeof response.body.error.message).toBe('string');
  if (code) expect(response.body.error.code).toBe(code);
};

describe('health, metrics, dev login', () => {
  it('answers /healthz and /metrics', async () => {
    expect(await server.api('/healthz')).toEqual({ status: 200, body: { status: 'ok' } });
    const metrics = await server.api('/metrics');
    expect(metrics.status).toBe(200);
    for (const name of ['parley_connections', 'parley_documents_open', 'parley_updates_rejected_total', 'parley_store_latency_seconds']) {
      expect(metrics.body).toContain(name);
    }
  });

  it('mints a working token in dev mode', async () => {
    const login = await server.api('/api/dev/login', { body: { userId: 'dora', name: 'Dora' } });
    expect(login.status).toBe(200);
    expect((await server.api('/api/conversations', { token: login.body.token })).status).toBe(200);
    expectError(await server.api('/api/dev/login', { body: { userId: 'no/slash' } }), 400, 'validation_failed');
  });
});

describe('conversations', () => {
  it('creates a group, lists it with last message and unread count, pages history', async () => {
    const created = await server.api('/api/conversations', { token: alice, body: { members: ['bob'], title: 'Plans' } });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    for (let i = 0; i < 5; i++) {
      const sent = await server.api(`/api/conversations/${id}/messages`, { token: i % 2 ? bob : alice, body: { id: `msg-${i}`, text: `hello ${i}` } });
      expect(sent.status).toBe(201);
      expect(sent.body.message).toMatchObject({ id: `msg-${i}`, author: i % 2 ? 'bob' : 'alice', text: `hello ${i}`, kind: 'text' });
    }
    // Same id again is idempotent.
    expect((await server.api(`/api/conversations/${id}/messages`, { token: alice, body: { id: 'msg-0', text: 'hello 0' } })).status).toBe(200);

    const list = await server.api('/api/conversations', { token: bob });
    const mine = list.body.conversations.find((c: { id: string }) => c.id === id);
    expect(mine).toMatchObject({ id, title: 'Plans', kind: 'group', members: ['alice', 'bob'], lastMessage: { author: 'alice', text: 'hello 4' }, unread: 3 });

    const page1 = await server.api(`/api/conversations/${id}/messages?limit=2`, { token: bob });
    expect(page1.body.messages.map((m: { id: string }) => m.id)).toEqual(['msg-4', 'msg-3']);
    const page2 = await server.api(`/api/conversations/${id}/messages?limit=2&before=${page1.body.nextCursor}`, { token: bob });
    expect(page2.body.messages.map((m: { id: string }) => m.id)).toEqual(['msg-2', 'msg-1']);
    const page3 = await server.api(`/api/conversations/${id}/messages?before=${page2.body.nextCursor}`, { token: bob });
    expect(page3.body).toMatchObject({ messages: [{ id: 'msg-0' }], nextCursor: null });

    expectError(await server.api(`/api/conversations/${id}/messages`, { token: carol }), 403, 'forbidden');
    expectError(await server.api(`/api/conversations/${id}/messages?limit=0`, { token: bob }), 400);
    expectError(await server.api(`/api/conversations/${id}/messages?limit=201`, { token: bob }), 400);
    expectError(await server.api(`/api/conversations/${id}/messages?before=nope`, { token: bob }), 400);
    expectError(await server.api(`/api/conversations/${id}/messages?page=2`, { token: bob }), 400);
  });

  it('a direct conversation is get-or-create, from either side', async () => {
    const first = await server.api('/api/conversations', { token: alice, body: { members: ['carol'] } });
    expect(first.status).toBe(201);
    const again = await server.api('/api/conversations', { token: carol, body: { members: ['alice'], kind: 'direct' } });
    expect(again).toEqual({ status: 200, body: { id: first.body.id } });
    expectError(await server.api('/api/conversations', { token: alice, body: { members: ['bob', 'carol'], kind: 'direct' } }), 400);
  });

  it('REST send reaches live clients', async () => {
    const { body } = await server.api('/api/conversations', { token: alice, body: { members: ['bob'], title: 'Live' } });
    const client = await connectUser(server, 'bob');
    try {
      const open = client.open(conversationDocName(body.id));
      await open.synced;
      await server.api(`/api/conversations/${body.id}/messages`, { token: alice, body: { text: 'over REST' } });
      await waitFor(() => readMessages(open.doc).length === 1, 5000, 'REST message live');
      expect(readMessages(open.doc)[0]).toMatchObject({ author: 'alice', text: 'over REST' });
    } finally {
      client.destroy();
    }
  });

  it('members: owner adds and removes, others may not; a removed member loses access', async () => {
    const { body } = await server.api('/api/conversations', { token: alice, body: { members: ['bob'], title: 'Team' } });
    const id = body.id as string;
    expectError(await server.api(`/api/conversations/${id}/members`, { token: bob, body: { userId: 'carol' } }), 403, 'forbidden');
    expect((await server.api(`/api/conversations/${id}/members`, { token: alice, body: { userId: 'carol' } })).status).toBe(201);
    expect((await server.api(`/api/conversations/${id}/messages`, { token: carol })).status).toBe(200);

    const client = await connectUser(server, 'carol');
    try {
      const open = client.open(conversationDocName(id));
      await open.synced;
      expect(Object.keys(open.doc.getMap('members').toJSON()).sort()).toEqual(['alice', 'bob', 'carol']);
      expect((await server.api(`/api/conversations/${id}/members/carol`, { token: alice, method: 'DELETE' })).status).toBe(200);
      await waitFor(() => open.closeReasons.length > 0, 5000, 'removed member disconnected');
    } finally {
      client.destroy();
    }
    expectError(await server.api(`/api/conversations/${id}/messages`, { token: carol }), 403);
    expectError(await server.api(`/api/conversations/${id}/members/carol`, { token: alice, method: 'DELETE' }), 404);
    const service = await server.token('backend', { roles: ['service'] });
    expect((await server.api(`/api/conversations/${id}/members`, { token: service, body: { userId: 'dave' } })).status).toBe(201);
  });
});

describe('rename (PATCH /api/conversations/:id)', () => {
  it('the owner, an admin or a service renames a group; the title reaches the document and the list; bad titles and others are refused', async () => {
    const { body } = await server.api('/api/conversations', { token: alice, body: { members: ['bob', 'carol'], title: 'Before' } });
    const id = body.id as string;
    const client = await connectUser(server, 'bob');
    try {
      const open = client.open(conversationDocName(id));
      await open.synced;
      expect(open.doc.getMap('meta').get('title')).toBe('Before');
      expect(await server.api(`/api/conversations/${id}`, { token: alice, method: 'PATCH', body: { title: '  Trip planning ' } })).toEqual({ status: 200, body: { id, title: 'Trip planning' } });
      await waitFor(() => open.doc.getMap('meta').get('title') === 'Trip planning', 5000, 'renamed title mirrored into meta');
    } finally {
      client.destroy();
    }
    const listed = (await server.api('/api/conversations', { token: carol })).body.conversations.find((c: { id: string }) => c.id === id);
    expect(listed.title).toBe('Trip planning');
    expectError(await server.api(`/api/conversations/${id}`, { token: bob, method: 'PATCH', body: { title: 'Mine now' } }), 403, 'forbidden');
    expectError(await server.api(`/api/conversations/${id}`, { token: alice, method: 'PATCH', body: { title: '   ' } }), 400, 'validation_failed');
    expectError(await server.api(`/api/conversations/${id}`, { token: alice, method: 'PATCH', body: { title: 'x'.repeat(201) } }), 400, 'validation_failed');
    expectError(await server.api(`/api/conversations/${id}`, { token: alice, method: 'PATCH', body: { title: 'ok', kind: 'direct' } }), 400, 'validation_failed');
    expectError(await server.api(`/api/conversations/c-nope`, { token: alice, method: 'PATCH', body: { title: 'ok' } }), 404);
    const service = await server.token('backend', { roles: ['service'] });
    expect((await server.api(`/api/conversations/${id}`, { token: service, method: 'PATCH', body: { title: 'By service' } })).status).toBe(200);
    const direct = (await server.api('/api/conversations', { token: alice, body: { members: ['bob'], kind: 'direct' } })).body.id as string;
    expectError(await server.api(`/api/conversations/${direct}`, { token: alice, method: 'PATCH', body: { title: 'Ours' } }), 400);
  });
});

describe('errors and refusals leave nothing behind', () => {
  it('answers missing and bad tokens with 401', async () => {
    expectError(await server.api('/api/conversations'), 401, 'unauthorized');
    expectError(await server.api('/api/conversations', { token: 'not.a.jwt' }), 401, 'unauthorized');
    expectError(await server.api('/api/conversations', { token: await server.token('alice', { expiresIn: -5 }) }), 401, 'unauthorized');
    expectError(await server.api('/api/conversations', { headers: { authorization: 'Basic abc' } }), 401);
  });

  it('answers bad JSON, unknown fields, too-long ids and oversized bodies with 4xx and stores nothing', async () => {
    const before = (await server.api('/api/conversations', { token: alice })).body.conversations.length;
    expectError(await server.api('/api/conversations', { token: alice, rawBody: '{"members": [' }), 400, 'invalid_json');
    expectError(await server.api('/api/conversations', { token: alice, body: { members: ['bob'], colour: 'red' } }), 400, 'validation_failed');
    expectError(await server.api('/api/conversations', { token: alice, body: { members: ['x'.repeat(65)] } }), 400, 'validation_failed');
    expectError(await server.api('/api/conversations', { token: alice, body: { members: [] } }), 400);
    expectError(await server.api('/api/conversations', { token: alice, body: { members: 'bob' } }), 400);
    expectError(await server.api('/api/conversations', { token: alice, body: { members: ['bob'], kind: 'secret' } }), 400);
    expectError(await server.api('/api/conversations', { token: alice, rawBody: JSON.stringify({ members: ['bob'], title: 'x'.repeat(2 * 1024 * 1024) }) }), 413, 'payload_too_large');
    expect((await server.api('/api/conversations', { token: alice })).body.conversations.length).toBe(before);

    const { body } = await server.api('/api/conversations', { token: alice, body: { members: ['bob'], title: 'Limits' } });
    expectError(await server.api(`/api/conversations/${body.id}/messages`, { token: alice, body: { text: 'x'.repeat(16 * 1024 + 1) } }), 400);
    expectError(await server.api(`/api/conversations/${'y'.repeat(65)}/messages`, { token: alice }), 400);
    expectError(await server.api('/api/conversations/unknown-id/messages', { token: alice }), 404, 'not_found');
    expect((await server.api(`/api/conversations/${body.id}/messages`, { token: alice })).body.messages).toEqual([]);
    expectError(await server.api('/api/nothing-here', { token: alice }), 404, 'not_found');
  });
});
