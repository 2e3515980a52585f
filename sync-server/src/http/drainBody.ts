import type { IncomingMessage } from 'node:http';
import { DEFAULTS } from '@parley/schema';

/**
 * Reads and discards what is left of a refused request's body, so the answer
 * reaches the client. Answering and closing while the client still writes
 * makes the kernel reset the connection (unread data), and the client sees
 * EPIPE/ECONNRESET instead of the 413. Bounded: a body declared or sent past
 * `httpDrainMaxBytes`, or still arriving after `httpDrainMaxMs`, is cut off.
 */
export function drainBody(request: IncomingMessage, maxBytes: number = DEFAULTS.httpDrainMaxBytes, maxMs: number = DEFAULTS.httpDrainMaxMs): Promise<void> {
  if (request.complete || request.readableEnded || request.destroyed) return Promise.resolve();
  if (Number(request.headers['content-length']) > maxBytes) return Promise.resolve();
  return new Promise((resolve) => {
    let seen = 0;
    const done = () => {
      clearTimeout(timer);
      request.off('data', onData);
      request.off('end', done);
      request.off('close', done);
      request.off('error', done);
      resolve();
    };
    const onData = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > maxBytes) done();
    };
    const timer = setTimeout(done, maxMs);
    timer.unref();
    request.on('data', onData);
    request.on('end', done);
    request.on('close', done);
    request.on('error', done);
    request.resume();
  });
}
