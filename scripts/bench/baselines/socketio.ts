/**
 * Baseline 2: the relay most chat apps ship. Socket.IO rooms; each message is
 * inserted into SQLite (better-sqlite3, WAL) before it is broadcast and
 * acknowledged; a reconnecting client asks for the rows after the last
 * sequence number it saw. Unread counters and a per-user notification event
 * follow each message, and `POST /api/events` turns business events into
 * notifications, so metric 9 has something to compare against.
 * Launched like Parley: env PORT, HOST, DATA_DIR, JWT_SECRET.
 */
import { mkdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { jwtVerify, type JWTPayload } from 'jose';
import { Server } from 'socket.io';

const dataDir = process.env.DATA_DIR ?? './data';
mkdirSync(dataDir, { recursive: true });
const secret = new TextEncoder().encode(process.env.JWT_SECRET ?? '');

const db = new Database(join(dataDir, 'relay.sqlite'));
db.pragma('journal_mode = WAL');
// NORMAL in WAL mode survives a process crash (kill -9); only power loss can drop the tail.
db.pragma('synchronous = NORMAL');
db.exec(`
  CREATE TABLE IF NOT EXISTS messages (seq INTEGER PRIMARY KEY AUTOINCREMENT, room TEXT NOT NULL, id TEXT NOT NULL UNIQUE,
    author TEXT NOT NULL, text TEXT NOT NULL, created_at INTEGER NOT NULL);
  CREATE INDEX IF NOT EXISTS messages_room_seq ON messages (room, seq);
  CREATE TABLE IF NOT EXISTS members (room TEXT NOT NULL, user TEXT NOT NULL, PRIMARY KEY (room, user));
  CREATE TABLE IF NOT EXISTS unread (user TEXT NOT NULL, room TEXT NOT NULL, count INTEGER NOT NULL, last_text TEXT, at INTEGER,
    PRIMARY KEY (user, room));
  CREATE TABLE IF NOT EXISTS events (id TEXT PRIMARY KEY, type TEXT NOT NULL, body TEXT NOT NULL, at INTEGER NOT NULL);
  CREATE TABLE IF NOT EXISTS notifications (id INTEGER PRIMARY KEY AUTOINCREMENT, user TEXT NOT NULL, kind TEXT NOT NULL,
    body TEXT NOT NULL, created_at INTEGER NOT NULL);
`);

interface Row {
  seq: number;
  room: string;
  id: string;
  author: string;
  text: string;
  createdAt: number;
}

const insertMessage = db.prepare('INSERT INTO messages (room, id, author, text, created_at) VALUES (?, ?, ?, ?, ?)');
const selectAfter = db.prepare('SELECT seq, room, id, author, text, created_at AS createdAt FROM messages WHERE room = ? AND seq > ? ORDER BY seq');
const selectLast = db.prepare('SELECT seq, room, id, author, text, created_at AS createdAt FROM messages WHERE room = ? ORDER BY seq DESC LIMIT ?');
const insertMember = db.prepare('INSERT OR IGNORE INTO members (room, user) VALUES (?, ?)');
const selectMembers = db.prepare('SELECT user FROM members WHERE room = ? AND user != ?');
const upsertUnread = db.prepare(`INSERT INTO unread (user, room, count, last_text, at) VALUES (?, ?, 1, ?, ?)
  ON CONFLICT (user, room) DO UPDATE SET count = count + 1, last_text = excluded.last_text, at = excluded.at`);
const insertEvent = db.prepare('INSERT OR IGNORE INTO events (id, type, body, at) VALUES (?, ?, ?, ?)');
const insertNotification = db.prepare('INSERT INTO notifications (user, kind, body, created_at) VALUES (?, ?, ?, ?)');

const seed = db.transaction((room: string, author: string, messages: Array<{ id: string; text: string }>) => {
  const now = Date.now();
  for (const message of messages) insertMessage.run(room, message.id, author, message.text, now);
});
const bumpUnread = db.transaction((users: string[], room: string, text: string, at: number) => {
  for (const user of users) upsertUnread.run(user, room, text, at);
});
const recordEvent = db.transaction((id: string, type: string, body: string, recipients: string[]) => {
  const now = Date.now();
  if (insertEvent.run(id, type, body, now).changes === 0) return false;
  for (const user of recipients) insertNotification.run(user, type, body, now);
  return true;
});

async function verify(token: unknown): Promise<JWTPayload & { sub: string }> {
  if (typeof token !== 'string') throw new Error('missing token');
  const { payload } = await jwtVerify(token, secret, { algorithms: ['HS256'] });
  if (typeof payload.sub !== 'string' || payload.sub.length === 0) throw new Error('missing sub');
  return payload as JWTPayload & { sub: string };
}

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString() || 'null');
}

const http = createServer((request, response) => {
  if (request.url === '/healthz') return send(response, 200, { status: 'ok' });
  if (request.method !== 'POST' || request.url !== '/api/events') return send(response, 404, { error: { code: 'not_found', message: 'unknown route' } });
  void (async () => {
    try {
      const claims = await verify(request.headers.authorization?.replace(/^Bearer /, ''));
      if (!Array.isArray(claims.roles) || !claims.roles.includes('service')) return send(response, 403, { error: { code: 'forbidden', message: 'service only' } });
      const event = (await readJson(request)) as { id: string; type: string; recipients?: string[] };
      const recipients = event.recipients ?? [];
      const fresh = recordEvent(event.id, event.type, JSON.stringify(event), recipients);
      if (!fresh) return send(response, 200, { duplicate: true });
      for (const user of recipients) io.to(`user:${user}`).emit('notification', { kind: event.type, id: event.id });
      send(response, 202, { accepted: true });
    } catch (error) {
      send(response, 401, { error: { code: 'unauthorized', message: String(error) } });
    }
  })();
});

const io = new Server(http, { path: '/socket.io', serveClient: false, maxHttpBufferSize: 8 * 1024 * 1024 });

io.use((socket, next) => {
  verify(socket.handshake.auth?.token)
    .then((claims) => {
      socket.data.user = claims.sub;
      next();
    })
    .catch(() => next(new Error('unauthorized')));
});

io.on('connection', (socket) => {
  const user = socket.data.user as string;
  void socket.join(`user:${user}`);

  socket.on('join', (request: { room: string; after?: number; last?: number }, ack?: (answer: { messages: Row[] }) => void) => {
    void socket.join(request.room);
    insertMember.run(request.room, user);
    let messages: Row[] = [];
    if (typeof request.after === 'number') messages = selectAfter.all(request.room, request.after) as Row[];
    else if (typeof request.last === 'number') messages = (selectLast.all(request.room, request.last) as Row[]).reverse();
    ack?.({ messages });
  });

  socket.on('leave', (room: string) => void socket.leave(room));

  socket.on('message', (request: { room: string; id: string; text: string; createdAt?: number }, ack?: (answer: { seq: number }) => void) => {
    const createdAt = request.createdAt ?? Date.now();
    const seq = Number(insertMessage.run(request.room, request.id, user, request.text, createdAt).lastInsertRowid);
    const row: Row = { seq, room: request.room, id: request.id, author: user, text: request.text, createdAt };
    socket.to(request.room).emit('message', row);
    ack?.({ seq });
    // Unread counters and notifications after the broadcast, as chat apps usually order it.
    setImmediate(() => {
      const others = (selectMembers.all(request.room, user) as Array<{ user: string }>).map((r) => r.user);
      if (others.length === 0) return;
      bumpUnread(others, request.room, request.text, createdAt);
      for (const other of others) io.to(`user:${other}`).emit('notification', { room: request.room, id: request.id, text: request.text });
    });
  });

  // Benchmark set-up only: bulk history in one transaction, like the Yjs targets' batched updates.
  socket.on('seed', (request: { room: string; messages: Array<{ id: string; text: string }> }, ack?: (answer: { ok: true }) => void) => {
    seed(request.room, user, request.messages);
    ack?.({ ok: true });
  });
});

const shutdown = (): void => {
  io.close();
  db.close();
  process.exit(0);
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

http.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1', () => {
  const address = http.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  console.log(JSON.stringify({ level: 30, msg: 'listening', port }));
});
