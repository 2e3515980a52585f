/**
 * A chat client on the Hocuspocus provider, used unchanged against Parley and
 * stock Hocuspocus: one WebSocket per client (each client is its own user, as
 * in real life), messages written with `@parley/schema`'s appendMessage.
 */
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider';
import { appendMessage, buildMessage, conversationParts } from '@parley/schema';
import WebSocket from 'ws';
import * as Y from 'yjs';
import { sleep, withTimeout, type ChatClient, type ConnectOptions, type Delivered } from './client';

const CLIENT_MAX_PAYLOAD = 2 ** 31 - 1;

/** Reconnect quickly and without long back-off, the same for every target. */
const RECONNECT = { delay: 100, initialDelay: 0, factor: 1.5, minDelay: 100, maxDelay: 1000, jitter: true };

const size = (data: WebSocket.RawData): number =>
  Array.isArray(data) ? data.reduce((sum, part) => sum + part.length, 0) : data instanceof ArrayBuffer ? data.byteLength : data.length;

export interface YConnectOptions extends ConnectOptions {
  url: string;
  documentName: string;
  token: string;
}

const toDelivered = (map: Y.Map<unknown>): Delivered => ({
  id: String(map.get('id') ?? ''),
  author: String(map.get('author') ?? ''),
  text: String(map.get('text') ?? ''),
});

export async function connectY(user: string, options: YConnectOptions): Promise<ChatClient & { doc: Y.Doc }> {
  const doc = options.state instanceof Y.Doc ? options.state : new Y.Doc();
  const counter = { bytes: 0 };
  class CountingWebSocket extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      // A million-message document syncs in one frame of over 100 MiB, ws's default limit; browsers have none so low.
      super(address, protocols, { maxPayload: CLIENT_MAX_PAYLOAD });
      this.on('message', (data) => {
        counter.bytes += size(data);
      });
      // The provider listens too; this keeps a socket error from being an unhandled 'error' event.
      this.on('error', () => {});
    }
  }
  const socket = new HocuspocusProviderWebsocket({
    url: options.url,
    WebSocketPolyfill: CountingWebSocket,
    // Silent subscribers receive nothing for minutes; the server pings at the WebSocket level.
    messageReconnectTimeout: 3_600_000,
    ...RECONNECT,
  });
  let failure: string | null = null;
  let synced = false;
  let syncedAt = 0;
  const syncWaiters: Array<() => void> = [];
  const provider = new HocuspocusProvider({
    websocketProvider: socket,
    name: options.documentName,
    document: doc,
    token: options.token,
    ...(options.awareness ? {} : { awareness: null }),
  });
  provider.attach();
  provider.on('synced', () => {
    synced = true;
    syncedAt = performance.now();
    syncWaiters.splice(0).forEach((wake) => wake());
  });
  provider.on('disconnect', () => {
    synced = false;
  });
  provider.on('close', ({ event }: { event: { code?: number; reason?: string } }) => options.onClose?.(event));
  provider.on('authenticationFailed', ({ reason }: { reason: string }) => {
    failure = reason;
    syncWaiters.splice(0).forEach((wake) => wake());
  });

  // Acknowledgements arrive in order, one per update: resolve the oldest pending sends.
  const pending: Array<() => void> = [];
  provider.on('unsyncedChanges', ({ number }: { number: number }) => {
    while (pending.length > number) pending.shift()!();
  });

  const messages = conversationParts(doc).messages;
  const client: ChatClient & { doc: Y.Doc } = {
    user,
    doc,
    onMessage: null,
    count: () => messages.length,
    latest: (n) => messages.slice(Math.max(0, messages.length - n)).map(toDelivered),
    send(id, text) {
      return new Promise<void>((done) => {
        pending.push(done);
        appendMessage(doc, { id, author: user, text });
      });
    },
    sendBatch(batch) {
      return new Promise<void>((done) => {
        pending.push(done);
        // One push per batch: Y.Array push walks to the end of the list, so a push per message is quadratic in history.
        messages.push(batch.map((message) => buildMessage({ id: message.id, author: user, text: message.text })));
      });
    },
    bytesIn: () => counter.bytes,
    isSynced: () => synced,
    syncedAt: () => syncedAt,
    async goOffline() {
      // connect() is a no-op while the old socket still counts as connected: wait until it no longer does.
      socket.disconnect();
      const until = performance.now() + 10_000;
      while (socket.status === 'connected' && performance.now() < until) await sleep(2);
      if (socket.status === 'connected') throw new Error(`${user}: socket still connected 10 s after disconnect()`);
    },
    async goOnline(timeoutMs) {
      const wait = untilSynced();
      void socket.connect();
      await withTimeout(wait, timeoutMs, `${user} resync of ${options.documentName}`);
    },
    close() {
      provider.destroy();
      socket.destroy();
    },
  };
  messages.observe((event, transaction) => {
    if (transaction.local || !client.onMessage) return;
    for (const delta of event.changes.delta) {
      if (!delta.insert || !Array.isArray(delta.insert)) continue;
      for (const item of delta.insert) if (item instanceof Y.Map) client.onMessage(toDelivered(item));
    }
  });

  function untilSynced(): Promise<void> {
    synced = false;
    return new Promise<void>((done, fail) => {
      syncWaiters.push(() => (failure ? fail(new Error(`${user} refused on ${options.documentName}: ${failure}`)) : done()));
    });
  }

  try {
    await withTimeout(synced ? Promise.resolve() : untilSynced(), options.timeoutMs ?? 30_000, `${user} sync of ${options.documentName}`);
  } catch (error) {
    client.close();
    throw error;
  }
  return client;
}

/** Opens many documents on one shared WebSocket (a client with many conversations open). */
export async function openManyY(options: { url: string; token: string; names: readonly string[]; timeoutMs: number }): Promise<{ close(): void }> {
  const socket = new HocuspocusProviderWebsocket({ url: options.url, WebSocketPolyfill: WebSocket, messageReconnectTimeout: 3_600_000, ...RECONNECT });
  const providers: HocuspocusProvider[] = [];
  const close = (): void => {
    providers.forEach((provider) => provider.destroy());
    socket.destroy();
  };
  try {
    // Hocuspocus resets a socket with more than 100 documents awaiting authentication: attach in small groups.
    for (let i = 0; i < options.names.length; i += 50) {
      const group = options.names.slice(i, i + 50).map((name) => {
        const provider = new HocuspocusProvider({ websocketProvider: socket, name, token: options.token, awareness: null });
        providers.push(provider);
        const synced = new Promise<void>((done, fail) => {
          provider.on('synced', () => done());
          provider.on('authenticationFailed', ({ reason }: { reason: string }) => fail(new Error(`${name}: ${reason}`)));
        });
        provider.attach();
        return synced;
      });
      await withTimeout(Promise.all(group), options.timeoutMs, `opening documents ${i}..${i + group.length}`);
    }
  } catch (error) {
    close();
    throw error;
  }
  return { close };
}
