/**
 * A silent subscriber that speaks the Hocuspocus protocol on the wire
 * (authenticate, sync step 1, answer pings) but keeps no Yjs document: it
 * spots a message by its id's bytes in incoming update frames. A thousand
 * provider-based subscribers in one generator process spend ~80 us each
 * applying every update, so the generator, not the server, would set the
 * fan-out figure; this keeps the client's share to a frame parse and a search.
 * Used unchanged for Parley and stock Hocuspocus.
 *
 * Hocuspocus closes a socket that has sent nothing for its `timeout` (Parley:
 * DEFAULTS.connectionTimeoutMs, 30 s; stock: 60 s), checked once per timeout.
 * A provider stays open by renewing its awareness state every 15 s; this
 * sends an empty update (two zero bytes: nothing applied, nothing broadcast,
 * only a sync status back) as often, or a run longer than the timeout
 * loses its receivers (4408 "Connection Timeout") and every later message
 * looks undelivered. A close, of the socket or of the document (Hocuspocus'
 * CLOSE message, e.g. Parley's `document-renewed`), is reported to `onClose`.
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import WebSocket from 'ws';
import * as Y from 'yjs';
import { withTimeout } from './client';

const MESSAGE_SYNC = 0;
const MESSAGE_AUTH = 2;
const MESSAGE_CLOSE = 7;
const MESSAGE_PING = 9;
const MESSAGE_PONG = 10;
const SYNC_STEP_1 = 0;
const SYNC_STEP_2 = 1;
const SYNC_UPDATE = 2;
const AUTH_TOKEN = 0;
const AUTH_DENIED = 1;
/** Half the shorter idle timeout (Parley's 30 s), like a provider's awareness renewal. */
const KEEPALIVE_MS = 15_000;
/** No structs, no deletions. */
const EMPTY_UPDATE = Uint8Array.of(0, 0);

export interface WireSubscriber {
  /** Called with each incoming document update frame (raw bytes); with `reportSync`, with the sync step 2 too. */
  onUpdate: ((frame: Buffer) => void) | null;
  /** The server closed the document (its reason, e.g. `document-renewed`) or the socket (`code reason`). */
  onClose: ((why: { code?: number; reason: string }) => void) | null;
  close(): void;
}

function frame(documentName: string, write: (encoder: encoding.Encoder) => void): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarString(encoder, documentName);
  write(encoder);
  return encoding.toUint8Array(encoder);
}

export interface WireOptions {
  url: string;
  documentName: string;
  token: string;
  timeoutMs: number;
  /** Report the sync step 2 to `onUpdate` too (set before the first frame arrives). */
  reportSync?: boolean;
  onUpdate?: WireSubscriber['onUpdate'];
  onClose?: WireSubscriber['onClose'];
}

export async function connectWire(options: WireOptions): Promise<WireSubscriber> {
  const { documentName } = options;
  const ws = new WebSocket(options.url);
  const keepalive = setInterval(() => {
    if (ws.readyState !== ws.OPEN) return;
    ws.send(frame(documentName, (e) => {
      encoding.writeVarUint(e, MESSAGE_SYNC);
      encoding.writeVarUint(e, SYNC_UPDATE);
      encoding.writeVarUint8Array(e, EMPTY_UPDATE);
    }));
  }, KEEPALIVE_MS);
  let closedByUs = false;
  const subscriber: WireSubscriber = {
    onUpdate: options.onUpdate ?? null,
    onClose: options.onClose ?? null,
    close: () => {
      closedByUs = true;
      clearInterval(keepalive);
      ws.close();
    },
  };
  ws.on('close', (code, reason) => {
    clearInterval(keepalive);
    if (!closedByUs) subscriber.onClose?.({ code, reason: reason.toString() });
  });
  const synced = new Promise<void>((resolve, reject) => {
    ws.on('error', reject);
    ws.on('close', (code, reason) => reject(new Error(`closed ${code} ${reason.toString()}`)));
    ws.on('open', () => {
      ws.send(frame(documentName, (e) => {
        encoding.writeVarUint(e, MESSAGE_AUTH);
        encoding.writeVarUint(e, AUTH_TOKEN);
        encoding.writeVarString(e, options.token);
      }));
      ws.send(frame(documentName, (e) => {
        encoding.writeVarUint(e, MESSAGE_SYNC);
        encoding.writeVarUint(e, SYNC_STEP_1);
        encoding.writeVarUint8Array(e, Y.encodeStateVector(new Y.Doc()));
      }));
    });
    ws.on('message', (data: Buffer) => {
      if (data.length === 1 && data[0] === MESSAGE_PING) return ws.send(Uint8Array.of(MESSAGE_PONG));
      const decoder = decoding.createDecoder(data);
      decoding.readVarString(decoder);
      const type = decoding.readVarUint(decoder);
      if (type === MESSAGE_AUTH && decoding.readVarUint(decoder) === AUTH_DENIED) return reject(new Error(`refused: ${decoding.readVarString(decoder)}`));
      if (type === MESSAGE_CLOSE) return subscriber.onClose?.({ reason: decoding.readVarString(decoder) });
      if (type !== MESSAGE_SYNC) return;
      const step = decoding.readVarUint(decoder);
      if (step === SYNC_STEP_1) {
        // The server asks what we have: nothing.
        ws.send(frame(documentName, (e) => {
          encoding.writeVarUint(e, MESSAGE_SYNC);
          encoding.writeVarUint(e, SYNC_STEP_2);
          encoding.writeVarUint8Array(e, Y.encodeStateAsUpdate(new Y.Doc()));
        }));
      } else if (step === SYNC_STEP_2) {
        // A reopened document's window: what arrived while it was closed is in it.
        if (options.reportSync) subscriber.onUpdate?.(data);
        resolve();
      } else if (step === SYNC_UPDATE) subscriber.onUpdate?.(data);
    });
  });
  try {
    await withTimeout(synced, options.timeoutMs, `wire subscriber sync of ${documentName}`);
  } catch (error) {
    clearInterval(keepalive);
    ws.terminate();
    throw error;
  }
  return subscriber;
}
