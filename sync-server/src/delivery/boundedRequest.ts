import http from 'node:http';
import https from 'node:https';
import { DEFAULTS } from '@parley/schema';

export interface PeerAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** At most `maxResponseBytes` of the body, as text. */
  body: string;
}

/** A request that got no answer; `written` says whether the whole request reached the socket (it may have arrived). */
export class PeerUnreachable extends Error {
  constructor(
    message: string,
    readonly written: boolean,
  ) {
    super(message);
    this.name = 'PeerUnreachable';
  }
}

export interface BoundedRequest {
  method: 'POST';
  url: string;
  headers: Record<string, string | number>;
  body: Buffer | string;
  timeoutMs?: number;
  connectTimeoutMs?: number;
  maxResponseBytes?: number;
}

/**
 * One HTTP(S) request to a peer we do not control (a push service, an SMS
 * webhook), bounded every way a hostile peer could stretch it: connecting,
 * answering and the size of the answer (read up to a cap, then the socket is
 * dropped). Redirects are never followed (node's request does not). It never
 * rejects with anything but PeerUnreachable.
 */
export function boundedRequest(request: BoundedRequest): Promise<PeerAnswer> {
  const timeoutMs = request.timeoutMs ?? DEFAULTS.deliveryRequestTimeoutMs;
  const connectTimeoutMs = Math.min(request.connectTimeoutMs ?? DEFAULTS.deliveryConnectTimeoutMs, timeoutMs);
  const maxBytes = request.maxResponseBytes ?? DEFAULTS.deliveryResponseMaxBytes;
  const url = new URL(request.url);
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise<PeerAnswer>((resolve, reject) => {
    let connected = false;
    let finished = false;
    let settled = false;
    const settle = (action: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(overall);
      clearTimeout(connecting);
      action();
    };
    const fail = (message: string) => {
      const written = connected && finished;
      settle(() => reject(new PeerUnreachable(message, written)));
      req.destroy();
    };
    const req = transport.request(url, { method: request.method, headers: request.headers });
    const overall = setTimeout(() => fail(`no answer within ${timeoutMs} ms`), timeoutMs);
    const connecting = setTimeout(() => {
      if (!connected) fail(`could not connect within ${connectTimeoutMs} ms`);
    }, connectTimeoutMs);
    req.on('socket', (socket) => {
      const ready = () => {
        connected = true;
      };
      // A kept-alive socket is connected already: listening for its connect would only pile up listeners.
      if (!socket.connecting && (url.protocol !== 'https:' || (socket as { encrypted?: boolean }).encrypted)) ready();
      else socket.once(url.protocol === 'https:' ? 'secureConnect' : 'connect', ready);
    });
    req.on('finish', () => {
      finished = true;
    });
    req.on('error', (error) => fail(error.message));
    req.on('response', (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const done = () => settle(() => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }));
      response.on('data', (chunk: Buffer) => {
        if (size >= maxBytes) return;
        chunks.push(chunk.subarray(0, maxBytes - size));
        size += chunk.length;
        if (size >= maxBytes) {
          done();
          response.destroy();
        }
      });
      response.on('end', done);
      response.on('error', () => done());
      response.on('close', done);
    });
    req.end(request.body);
  });
}
