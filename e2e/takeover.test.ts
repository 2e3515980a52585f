/**
 * Conversation takeover (issue 11, item 1): the ids the server derives (a
 * direct conversation's from its two members, a job's from the job) can be
 * neither chosen by a caller nor resolve to a room of another kind or other
 * members, also when such a room already sits in the database.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { startServer, type TestServer } from './fixtures/server';
import { waitFor } from './fixtures/clients';
import { withDatabase } from './fixtures/database';

const servers: TestServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.kill().catch(() => {});
});
async function start() {
  const server = await startServer();
  servers.push(server);
  return server;
}

/** The id the server derives for the direct conversation of two users (CONTRACT: a digest of the pair). */
const directId = (a: string, b: string) => `dm-${createHash('sha256').update([a, b].sort().join('\n')).digest('hex').slice(0, 40)}`;

/** Writes rows into a stopped server's database, as an older build that let callers choose any id would have left them. */
function squat(server: TestServer, id: string, kind: string, owner: string) {
  withDatabase(server, (db) => {
    db.prepare('INSERT INTO conversations (id, kind, title, created_by, created_at) VALUES (?, ?, ?, ?, ?)').run(id, kind, 'mine now', owner, Date.now());
    db.prepare('INSERT INTO members (conversation_id, user_id, role, joined_at) VALUES (?, ?, ?, ?)').run(id, owner, 'owner', Date.now());
  });
}

describe('conversation takeover', () => {
  it('only a service chooses an id, and never a derived one', async () => {
    const server = await start();
    const [mallory, service] = await Promise.all([server.token('mallory'), server.token('shop', { roles: ['service'] })]);
    const squatDirect = { id: directId('alice', 'bob'), members: ['alice', 'bob'], title: 'gotcha', kind: 'group' };
    expect(await server.api('/api/conversations', { token: mallory, body: squatDirect })).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
    expect(await server.api('/api/conversations', { token: mallory, body: { id: 'my-room', members: ['bob'], title: 'x' } })).toMatchObject({ status: 403 });
    for (const id of [directId('alice', 'bob'), 'job-J1', 'dm-anything', 'job-']) {
      const answer = await server.api('/api/conversations', { token: service, body: { id, members: ['mallory'], kind: 'group', title: 'x' } });
      expect(answer, id).toMatchObject({ status: 400, body: { error: { message: expect.stringContaining('derived') } } });
    }
    expect((await server.api('/api/conversations', { token: service, body: { id: 'x', members: ['alice', 'bob'], kind: 'direct' } })).status).toBe(400);
    // A service may still choose an id of its own.
    expect(await server.api('/api/conversations', { token: service, body: { id: 'shop-room-1', members: ['alice'], title: 'Shop' } })).toEqual({ status: 201, body: { id: 'shop-room-1' } });

    // alice's direct chat with bob is theirs alone, and the job's room is the job owner's.
    const alice = await server.token('alice');
    const direct = await server.api('/api/conversations', { token: alice, body: { members: ['bob'] } });
    expect(direct).toEqual({ status: 201, body: { id: directId('alice', 'bob') } });
    const listed = (await server.api('/api/conversations', { token: alice })).body.conversations.find((c: { id: string }) => c.id === direct.body.id);
    expect(listed).toMatchObject({ kind: 'direct', members: ['alice', 'bob'] });
    expect((await server.api(`/api/conversations/${direct.body.id}/messages`, { token: mallory })).status).toBe(403);
    // Nobody turns a direct chat into a room: the owner adds no third member.
    expect((await server.api(`/api/conversations/${direct.body.id}/members`, { token: alice, body: { userId: 'mallory' } })).status).toBe(400);
  });

  it('a derived id already held by another room is refused, never reused', async () => {
    const server = await start();
    await server.stop();
    squat(server, directId('alice', 'bob'), 'group', 'mallory');
    squat(server, 'job-J2', 'group', 'mallory');
    await server.restart();

    const alice = await server.token('alice');
    const direct = await server.api('/api/conversations', { token: alice, body: { members: ['bob'] } });
    expect(direct).toMatchObject({ status: 409, body: { error: { code: 'conflict' } } });
    expect((await server.api('/api/conversations', { token: alice })).body.conversations).toEqual([]);

    // job.created for J2 fails clearly instead of handing the owner's job to mallory's room.
    const service = await server.token('shop', { roles: ['service'] });
    const event = { id: 'j2', type: 'job.created', occurredAt: Date.now(), actor: 'olive', subject: { type: 'job', id: 'J2' }, recipients: ['pro1'] };
    expect((await server.api('/api/events', { token: service, body: event })).status).toBe(202);
    await waitFor(() => server.output().includes('is not the conversation of job J2'), 10_000, 'the refusal in the log');
    const members = (await server.api('/api/conversations/job-J2/messages', { token: await server.token('olive') })).status;
    expect(members).toBe(403);
    // The notification does not send the professional to mallory's room either (the event is retried, not applied).
    const pro = await server.api('/api/notifications', { token: await server.token('pro1') });
    expect(pro.body.notifications).toEqual([]);
  });
});
