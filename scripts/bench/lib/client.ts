/**
 * What the load generator needs from one chat client, whatever the protocol:
 * the Hocuspocus provider (Parley, stock Hocuspocus) or socket.io-client
 * (the relay). Metrics are written once against this.
 */
export interface Delivered {
  id: string;
  author: string;
  text: string;
}

export interface ChatClient {
  readonly user: string;
  /** Called for every message that arrives from the server (not for this client's own sends). */
  onMessage: ((message: Delivered) => void) | null;
  /** Messages this replica holds, history and live. */
  count(): number;
  /** The newest `n` messages this replica holds, oldest first. */
  latest(n: number): Delivered[];
  /** Sends one message; resolves on the server's acknowledgement. */
  send(id: string, text: string): Promise<void>;
  /** Sends many messages as one write (history seeding); resolves on acknowledgement. */
  sendBatch(messages: ReadonlyArray<{ id: string; text: string }>): Promise<void>;
  /** Bytes received on the wire so far (WebSocket frames' payloads). */
  bytesIn(): number;
  /** True after the latest (re)connection finished its initial sync. */
  isSynced(): boolean;
  /** Time (performance.now) of the latest completed sync. */
  syncedAt(): number;
  /** Drops the connection but keeps the local replica; resolves once it is closed. */
  goOffline(): Promise<void>;
  /** Reconnects the same replica; resolves once synced again. */
  goOnline(timeoutMs: number): Promise<void>;
  close(): void;
}

export interface ConnectOptions {
  /** Keep a Yjs awareness state (the baselines' relay ignores it). Off for silent subscribers. */
  awareness?: boolean;
  /** Reuse a replica (Yjs document) kept from an earlier connection. */
  state?: unknown;
  /** Relay only: ask for the newest n messages on join (a new client showing the latest page). */
  last?: number;
  timeoutMs?: number;
  /** Yjs clients only: the server closed the document (Parley closes it with `document-renewed` at a renewal). */
  onClose?: (event: { code?: number; reason?: string }) => void;
}

/** Rejects after `ms` with a message naming what timed out. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));
