import type { WebSocket } from 'ws';

/** What a reader needs of a socket: stop reading it, start again. */
export type Pausable = Pick<WebSocket, 'pause' | 'resume'>;

/**
 * Pauses a socket's reading while any reason holds (its rate, its unread
 * answers) and resumes it once none does: each reason releases only itself,
 * so the rate limiter cannot resume a socket held for back-pressure.
 */
export class ReadValve {
  private readonly reasons = new Set<string>();

  constructor(private readonly ws: Pausable) {}

  /** A pause/resume pair for one reason, for parts that think they own the socket. */
  for(reason: string): Pausable {
    return { pause: () => this.hold(reason), resume: () => this.release(reason) } as Pausable;
  }

  hold(reason: string): void {
    if (this.reasons.size === 0) this.ws.pause();
    this.reasons.add(reason);
  }

  release(reason: string): void {
    if (this.reasons.delete(reason) && this.reasons.size === 0) this.ws.resume();
  }
}
