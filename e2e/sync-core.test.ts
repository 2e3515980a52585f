import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT, generateKeyPair, exportSPKI } from 'jose';
import { appendMessage, readMessages, conversationDocName, inboxDocName } from '@parley/schema';
import { startServer, mintToken, type TestServer } from './fixtures/server';
import { connectUser, createConversation, waitFor } from './fixtures/clients';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server.stop();
});

describe('real-time sync over one shared socket per user', () => {
  it('two members exchange messages live; several documents share one socket', async () => {
    const id = await createConversation(server, 'alice', ['bob']);
    const other = await createConversation(server, 'alice', ['bob', 'carol'], 'Second');
    const alice = await connectUser(server, 'alice');
    const bob = await connectUser(server, 'bob');
    try {
      const [a1, a2, aInbox] = [alice.open(conversationDocName(id)), alice.open(conversationDocName(other)), alice.open(inboxDocName('alice'))];
      const [b1, b2] = [bob.open(conversationDocName(id)), bob.open(conversationDocName(other))];
      await Promise.all([a1.synced, a2.synced, aInbox.synced, b1.synced, b2.synced]);
      expect(a1.doc.getMap('meta').get('id')).toBe(id);
      expect(Object.keys(a1.doc.getMap('members').toJSON()).sort()).toEqual(['alice', 'bob']);

      appendMessage(a1.doc, { id: 'm1', author: 'alice', text: 'hi bob' });
      await waitFor(() => readMessages(b1.doc).length === 1, 5000, 'bob receives');
      appendMessage(b1.doc, { id: 'm2', author: 'bob', text: 'hi alice' });
      appendMessage(b2.doc, { id: 'm3', author: 'bob', text: 'in the other one' });
      await waitFor(() => readMessages(a1.doc).length === 2 && readMessages(a2.doc).length === 1, 5000, 'alice receives');
      expect(readMessages(a1.doc).map((m) => m.text)).toEqual(['hi bob', 'hi alice']);
      expect(readMessages(a2.doc)[0]!.text).toBe('in the other one');
    } finally {
      alice.destroy();
      bob.destroy();
    }
  });

  it('refuses a non-member the conversation and anyone another user\'s inbox', async () => {
    const id = await createConversation(server, 'alice', ['bob']);
    const mallory = await connectUser(server, 'mallory');
    try {
      const conversation = mallory.open(conversationDocName(id));
      await expect(conversation.synced).rejects.toThrow('forbidden');
      const inbox = mallory.open(inboxDocName('alice'));
      await expect(inbox.synced).rejects.toThrow('forbidden');
      const unknown = mallory.open('conversation:does-not-exist');
      await expect(unknown.synced).rejects.toThrow('forbidden');
      const badName = mallory.open('something-else');
      await expect(badName.synced).rejects.toThrow('forbidden');
      // Their own inbox still works on the same socket.
      const own = mallory.open(inboxDocName('mallory'));
      await own.synced;
    } finally {
      mallory.destroy();
    }
  });

  it('an admin may open any conversation', async () => {
    const id = await createConversation(server, 'alice', ['bob']);
    const admin = await connectUser(server, 'root', { roles: ['admin'] });
    try {
      const doc = admin.open(conversationDocName(id));
      await doc.synced;
    } finally {
      admin.destroy();
    }
  });
});

describe('tokens', () => {
  const attempt = async (token: string) => {
    const client = await connectUser(server, 'alice', { token });
    try {
      const doc = client.open(inboxDocName('alice'));
      return await doc.synced.then(
        () => 'ok',
        (error: Error) => error.message,
      );
    } finally {
      client.destroy();
    }
  };

  it('refuses forged, expired, alg:none and wrong-algorithm tokens with a reason', async () => {
    expect(await attempt(await server.token('alice'))).toBe('ok');
    expect(await attempt(await mintToken('not-the-server-secret-0123456789', 'alice'))).toBe('authentication failed: invalid-token');
    expect(await attempt(await server.token('alice', { expiresIn: -10 }))).toBe('authentication failed: token-expired');
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${Buffer.from(
      JSON.stringify({ sub: 'alice', exp: Math.floor(Date.now() / 1000) + 600 }),
    ).toString('base64url')}.`;
    expect(await attempt(none)).toBe('authentication failed: invalid-token');
    const hs512 = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS512' })
      .setSubject('alice')
      .setExpirationTime('10m')
      .sign(new TextEncoder().encode(server.secret));
    expect(await attempt(hs512)).toBe('authentication failed: invalid-token');
    const noExp = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('alice').sign(new TextEncoder().encode(server.secret));
    expect(await attempt(noExp)).toBe('authentication failed: invalid-token');
    const badSub = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('a/b').setExpirationTime('10m').sign(new TextEncoder().encode(server.secret));
    expect(await attempt(badSub)).toBe('authentication failed: invalid-token');
  });

  it('closes a socket when its token expires', async () => {
    const client = await connectUser(server, 'alice', { token: await server.token('alice', { expiresIn: 2 }) });
    let closedWith: number | undefined;
    client.socket.on('close', ({ event }: { event: { code: number } }) => {
      closedWith ??= event.code;
    });
    try {
      const inbox = client.open(inboxDocName('alice'));
      await inbox.synced;
      await waitFor(() => closedWith !== undefined, 6000, 'socket closed at expiry');
      expect(closedWith).toBe(4401);
    } finally {
      client.destroy();
    }
  });

  it('accepts a public-key (ES256) token when JWT_PUBLIC_KEY is set, and still the HS256 secret', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const pem = await exportSPKI(publicKey);
    const keyed = await startServer({ env: { JWT_PUBLIC_KEY: pem } });
    try {
      const es = await new SignJWT({}).setProtectedHeader({ alg: 'ES256' }).setSubject('alice').setExpirationTime('10m').sign(privateKey);
      const ok = await keyed.api('/api/conversations', { token: es });
      expect(ok.status).toBe(200);
      const hs = await keyed.api('/api/conversations', { token: await keyed.token('alice') });
      expect(hs.status).toBe(200);
      const { privateKey: otherKey } = await generateKeyPair('ES256');
      const forged = await new SignJWT({}).setProtectedHeader({ alg: 'ES256' }).setSubject('alice').setExpirationTime('10m').sign(otherKey);
      expect((await keyed.api('/api/conversations', { token: forged })).status).toBe(401);
    } finally {
      await keyed.stop();
    }
  });
});
