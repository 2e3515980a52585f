/**
 * A chat client for the Socket.IO relay baseline: joins a room, keeps the
 * rows it has seen, and on every (re)connection asks for the rows after the
 * last sequence number it holds.
 */
import { io, type Socket } from 'socket.io-client';
import { withTimeout, type ChatClient, type ConnectOptions, type Delivered } from './client';

interface Row extends Delivered {
  seq: number;
}

export interface IoState {
  rows: Row[];
}

export interface IoConnectOptions extends ConnectOptions {
  url: string;
  room: string;
  token: string;
}

export async function connectIo(user: string, options: IoConnectOptions): Promise<ChatClient & { state: IoState; socket: Socket }> {
  const state: IoState = (options.state as IoState | undefined) ?? { rows: [] };
  const counter = { bytes: 0 };
  let synced = false;
  let syncedAt = 0;
  let failure: string | null = null;
  const syncWaiters: Array<() => void> = [];
  // Own rows are appended on acknowledgement, possibly after a later broadcast: track the highest seq apart.
  const lastSeq = (): number => state.rows.reduce((max, row) => (row.seq > max ? row.seq : max), 0);
  let maxSeq = lastSeq();
  const keep = (row: Row): void => {
    state.rows.push(row);
    if (row.seq > maxSeq) maxSeq = row.seq;
  };

  const socket = io(options.url, {
    transports: ['websocket'],
    auth: { token: options.token },
    forceNew: true,
    reconnectionDelay: 100,
    reconnectionDelayMax: 1000,
    randomizationFactor: 0.5,
    timeout: 60_000,
  });
  socket.io.on('open', () => {
    const transport = (socket.io.engine as unknown as { transport?: { ws?: { on?: (event: string, listener: (data: Buffer) => void) => void } } }).transport;
    transport?.ws?.on?.('message', (data: Buffer) => {
      counter.bytes += data.length;
    });
  });
  socket.on('connect_error', (error) => {
    if (error.message === 'unauthorized') failure = error.message;
  });
  socket.on('disconnect', () => {
    synced = false;
  });
  socket.on('connect', () => {
    // A replica with rows catches up after its last row; a new one asks for the newest page (or nothing).
    const request = state.rows.length > 0 || options.last === undefined ? { room: options.room, after: maxSeq } : { room: options.room, last: options.last };
    socket.emit('join', request, (answer: { messages: Row[] }) => {
      for (const row of answer.messages) keep(row);
      synced = true;
      syncedAt = performance.now();
      syncWaiters.splice(0).forEach((wake) => wake());
    });
  });

  const client: ChatClient & { state: IoState; socket: Socket } = {
    user,
    state,
    socket,
    onMessage: null,
    count: () => state.rows.length,
    latest: (n) => state.rows.slice(Math.max(0, state.rows.length - n)),
    send(id, text) {
      return new Promise<void>((done) => {
        socket.emit('message', { room: options.room, id, text, createdAt: Date.now() }, (answer: { seq: number }) => {
          keep({ seq: answer.seq, id, author: user, text });
          done();
        });
      });
    },
    sendBatch(batch) {
      return new Promise<void>((done) => {
        socket.emit('seed', { room: options.room, messages: batch }, () => done());
      });
    },
    bytesIn: () => counter.bytes,
    isSynced: () => synced,
    syncedAt: () => syncedAt,
    async goOffline() {
      socket.disconnect();
    },
    async goOnline(timeoutMs) {
      const wait = untilSynced();
      socket.connect();
      await withTimeout(wait, timeoutMs, `${user} rejoin of ${options.room}`);
    },
    close() {
      socket.removeAllListeners();
      socket.disconnect();
    },
  };
  socket.on('message', (row: Row) => {
    keep(row);
    client.onMessage?.(row);
  });

  function untilSynced(): Promise<void> {
    synced = false;
    return new Promise<void>((done, fail) => {
      syncWaiters.push(() => (failure ? fail(new Error(`${user} refused: ${failure}`)) : done()));
    });
  }

  try {
    await withTimeout(untilSynced(), options.timeoutMs ?? 30_000, `${user} join of ${options.room}`);
  } catch (error) {
    client.close();
    throw error;
  }
  return client;
}

/** Joins many rooms on one socket, fetching each room's history (a client with many conversations open). */
export async function joinManyIo(options: { url: string; token: string; rooms: readonly string[]; timeoutMs: number }): Promise<{ close(): void }> {
  const socket = io(options.url, { transports: ['websocket'], auth: { token: options.token }, forceNew: true, reconnection: false });
  const close = (): void => {
    socket.disconnect();
  };
  try {
    await withTimeout(new Promise<void>((done, fail) => {
      socket.once('connect', () => done());
      socket.once('connect_error', fail);
    }), options.timeoutMs, 'relay connect');
    for (let i = 0; i < options.rooms.length; i += 50) {
      const group = options.rooms.slice(i, i + 50).map((room) => new Promise<void>((done) => socket.emit('join', { room, after: 0 }, () => done())));
      await withTimeout(Promise.all(group), options.timeoutMs, `joining rooms ${i}..${i + group.length}`);
    }
  } catch (error) {
    close();
    throw error;
  }
  return { close };
}
