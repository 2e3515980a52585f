import { Redis } from 'ioredis';
import type { Logger } from '../logger';

/** Redis waits this long between reconnect attempts at most, so a restarted Redis is found within it. */
export const RECONNECT_MAX_MS = 1_000;

/**
 * The node's two Redis connections (a subscriber cannot issue commands) with
 * every key and channel under one prefix. Redis carries only what may be
 * lost (awareness, presence): nothing waits for it, commands fail at once
 * while it is down (no offline queue), and it reconnects and re-subscribes on
 * its own. `up` says whether both connections are ready now.
 */
export class RedisBus {
  readonly commands: Redis;
  private readonly subscriber: Redis;
  private readonly handlers = new Map<string, (message: Buffer) => void>();
  private readonly readyListeners: Array<() => void> = [];
  private connectedOnce = false;
  private wasUp = false;
  private subscribed = false;
  private upSinceMs = 0;

  constructor(
    url: string,
    readonly prefix: string,
    private readonly logger: Logger,
  ) {
    const options = {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: (attempt: number) => Math.min(attempt * 100, RECONNECT_MAX_MS),
    };
    this.commands = new Redis(url, options);
    // Subscribed on every ready (below): a SUBSCRIBE queued before a first connection fails with it.
    this.subscriber = new Redis(url, { ...options, autoResubscribe: false });
    this.subscriber.on('ready', () => void this.subscribeAll());
    this.subscriber.on('close', () => {
      this.subscribed = false;
    });
    this.commands.on('ready', () => this.changed());
    for (const connection of [this.commands, this.subscriber]) {
      connection.on('close', () => this.changed());
      // Errors are reported by state (up or not); the stack of each reconnect attempt is noise.
      connection.on('error', (error: Error) => this.logger.debug({ err: error }, 'redis error'));
    }
    this.subscriber.on('messageBuffer', (channel: Buffer, message: Buffer) => this.handlers.get(channel.toString())?.(message));
  }

  /** Connects both; resolves at once, the node answers 503 on /healthz until Redis was reached once. */
  start(): void {
    for (const connection of [this.commands, this.subscriber]) {
      connection.connect().catch(() => {}); // retried by retryStrategy
    }
  }

  get up(): boolean {
    return this.commands.status === 'ready' && this.subscriber.status === 'ready' && this.subscribed;
  }

  /** When both connections last became ready (0 before the first time). */
  get upSince(): number {
    return this.upSinceMs;
  }

  /** True once Redis was reached (readiness at start; a later outage only degrades). */
  get reached(): boolean {
    return this.connectedOnce;
  }

  key(name: string): string {
    return `${this.prefix}${name}`;
  }

  /** Every time both connections are ready again (first start, after an outage). */
  onReady(listener: () => void): void {
    this.readyListeners.push(listener);
  }

  /** Before start (the channels are subscribed at each connection). */
  subscribe(channel: string, handler: (message: Buffer) => void): void {
    this.handlers.set(this.key(channel), handler);
  }

  /** Up only once subscribed: what a node publishes on ready asks for answers it must hear. */
  private async subscribeAll(): Promise<void> {
    const channels = [...this.handlers.keys()];
    try {
      if (channels.length > 0) await this.subscriber.subscribe(...channels);
      this.subscribed = true;
    } catch (error) {
      this.logger.warn({ err: error }, 'redis subscribe failed; retried on the next connection');
    }
    this.changed();
  }

  /** Best effort: false when Redis is down (the message is lost, which its kind allows). */
  async publish(channel: string, message: Buffer): Promise<boolean> {
    if (!this.up) return false;
    try {
      await this.commands.publish(this.key(channel), message);
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.commands, this.subscriber].map((connection) => connection.quit().catch(() => connection.disconnect())));
  }

  private changed(): void {
    const up = this.up;
    if (up === this.wasUp) return;
    this.wasUp = up;
    if (up) {
      this.upSinceMs = Date.now();
      if (this.connectedOnce) this.logger.info('redis is back: awareness and presence span the nodes again');
      this.connectedOnce = true;
      for (const listener of this.readyListeners) listener();
    } else if (this.connectedOnce) {
      this.logger.warn('redis is unreachable: awareness and presence are this node\'s own until it is back; chat goes on through PostgreSQL');
    }
  }
}
