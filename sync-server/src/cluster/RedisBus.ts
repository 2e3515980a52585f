import { Redis } from 'ioredis';
import type { Logger } from '../logger';

/** Redis waits this long between reconnect attempts at most, so a restarted Redis is found within it. */
const RECONNECT_MAX_MS = 1_000;

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
    // The subscriber queues its SUBSCRIBE until connected (ioredis re-subscribes after a reconnect).
    this.subscriber = new Redis(url, { ...options, enableOfflineQueue: true });
    for (const connection of [this.commands, this.subscriber]) {
      connection.on('ready', () => this.changed());
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
    return this.commands.status === 'ready' && this.subscriber.status === 'ready';
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

  subscribe(channel: string, handler: (message: Buffer) => void): void {
    const name = this.key(channel);
    this.handlers.set(name, handler);
    this.subscriber.subscribe(name).catch((error: unknown) => this.logger.warn({ err: error, channel: name }, 'redis subscribe failed; retried on reconnect'));
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
      if (this.connectedOnce) this.logger.info('redis is back: awareness and presence span the nodes again');
      this.connectedOnce = true;
      for (const listener of this.readyListeners) listener();
    } else if (this.connectedOnce) {
      this.logger.warn('redis is unreachable: awareness and presence are this node\'s own until it is back; chat goes on through PostgreSQL');
    }
  }
}
