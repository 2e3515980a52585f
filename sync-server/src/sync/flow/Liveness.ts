import type { WebSocket } from 'ws';
import { DEFAULTS } from '@parley/schema';

/**
 * Ping/pong liveness of one socket. Hocuspocus only closes a socket that
 * sends nothing; a peer that keeps sending but never reads (or a dead TCP
 * path) stays. Every `DEFAULTS.wsPingIntervalMs` the socket is pinged; one
 * that has not answered the previous ping by then is dead.
 */
export class Liveness {
  private lastPingAt = Date.now();
  private awaitingPong = false;

  constructor(private readonly ws: Pick<WebSocket, 'ping' | 'on'>) {
    ws.on('pong', () => {
      this.awaitingPong = false;
    });
  }

  /** Called by the server's sweep. Returns false once the socket missed a ping. */
  tick(now: number): boolean {
    if (now - this.lastPingAt < DEFAULTS.wsPingIntervalMs) return true;
    if (this.awaitingPong) return false;
    this.lastPingAt = now;
    this.awaitingPong = true;
    try {
      this.ws.ping();
    } catch {
      // Not open any more: the close handler cleans up.
    }
    return true;
  }
}
