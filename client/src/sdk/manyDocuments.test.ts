import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS } from '@parley/schema';
import { startServer, type TestServer } from '../../../e2e/fixtures/server';
import { eventually, nodeSession } from '../testing/nodeClient';
import type { Session } from './Session';

/**
 * More documents than Hocuspocus lets wait for authentication on one socket
 * (100): the session attaches them in batches, on the first connection and
 * again on every reconnection, instead of being reset forever.
 */
let server: TestServer;
let session: Session | null = null;

beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await session?.destroy();
  await server?.stop();
});

describe('a session with many conversations', () => {
  it(`syncs ${DEFAULTS.maxPendingDocuments + 50} conversations on one socket, and again after reconnecting`, async () => {
    const count = DEFAULTS.maxPendingDocuments + 50;
    const token = await server.token('busy');
    for (let i = 0; i < count; i++) {
      const created = await server.api('/api/conversations', { token, body: { members: ['busy', `peer${i}`], title: `room ${i}`, kind: 'group' } });
      expect(created.status).toBe(201);
    }
    session = nodeSession(server, 'busy');
    await session.start();
    await eventually(() => session!.conversationIds().length === count, 20_000, 'the conversation list');
    await eventually(() => session!.connection().state === 'synced', 30_000, 'every document synced');
    expect(session.conversationList().every((c) => c.title.startsWith('room '))).toBe(true);

    session.goOffline();
    await eventually(() => session!.connection().state === 'offline', 5_000, 'offline');
    const last = session.conversationIds().at(-1)!;
    const written = session.conversation(last).send('sent while offline');
    session.goOnline();
    await eventually(() => session!.connection().state === 'synced', 30_000, 'synced again');
    expect(session.conversation(last).snapshot().messages.find((m) => m.id === written)?.status).toBe('sent');
    expect(server.output()).not.toContain('too many pending');
  }, 90_000);
});
