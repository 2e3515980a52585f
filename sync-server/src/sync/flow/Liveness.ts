import type { WebSocket } from 'ws';
import { DEFAULTS } from '@parley/schema';

/**
 * Ping/pong liveness of one socket. Hocuspocus only closes a socket that
 * sends nothing; a peer that keeps sending but never reads (or a dead TCP
 * path) stays. Every `DEFAULTS.wsPingIntervalMs` the socket is pinged; one
 * that has answered none of the last `DEFAULTS.wsPingMissesMax` pings is
 * dead. More than one: a busy peer (a phone waking up, a test process in a
 * long computation) answers late, and a healthy socket must not be cut.
 */
export class Liveness {
  private lastPingAt = Date.now();
  private unanswered = 0;

  constructor(private readonly ws: Pick<WebSocket, 'ping' | 'on'>) {
    ws.on('pong', () => {
      this.unanswered = 0;
    });
  }

  /** Called by the server's sweep. Returns false once the socket missed too many pings. */
  tick(now: number): boolean {
    if (now - this.lastPingAt < DEFAULTS.wsPingIntervalMs) return true;
    if (this.unanswered >= DEFAULTS.wsPingMissesMax) return false;
    this.lastPingAt = now;
    this.unanswered++;
    try {
      this.ws.ping();
    } catch {
      // Not open any more: the close handler cleans up.
    }
    return true;
  }
}
