import { DEFAULTS } from '@parley/schema';
import type { Logger } from '../logger';
import { RECONNECT_MAX_MS, type RedisBus } from './RedisBus';

/** Who is online on this node (SessionRegistry). */
export interface LocalUsers {
  online(): Iterable<string>;
  isOnline(userId: string): boolean;
}

const NODES = 'nodes';
const aliveKey = (node: string) => `node:${node}:alive`;
const usersKey = (node: string) => `node:${node}:users`;

/**
 * Presence across nodes: each node writes its online users to a set in Redis
 * with a TTL and renews it every heartbeat; every heartbeat also reads the
 * other live nodes' sets. A node that dies stops renewing: its keys expire
 * after `DEFAULTS.clusterNodeTtlMs` and its users go offline everywhere
 * (unless they have a socket elsewhere). `isOnline` answers from memory (the
 * last read), so delivery's "no open socket anywhere" check stays cheap.
 *
 * Redis down: the other nodes' users are kept for one TTL (a short outage
 * changes nothing), then only this node's own users count, so a push is sent
 * rather than wrongly held back; the next heartbeat after Redis is back
 * restores the whole picture.
 *
 * Redis back after a restart has lost every key at once, and the other nodes
 * re-register only as they reconnect (within a heartbeat plus a reconnect
 * delay): a node missing from Redis in that settling time is late, not gone.
 * Calling it gone would remove its awareness states here just after it
 * re-published them (a CI failure of `cluster-ops`, "Redis down and back").
 */
export class ClusterPresence {
  private remote = new Set<string>();
  private liveNodes = new Set<string>();
  private lastRead = 0;
  private timer: NodeJS.Timeout | null = null;
  private beating: Promise<void> | null = null;
  private readonly goneListeners: Array<(node: string) => void> = [];

  constructor(
    private readonly deps: { bus: RedisBus; local: LocalUsers; nodeId: string; logger: Logger },
    private readonly timing: { heartbeatMs: number; ttlMs: number } = { heartbeatMs: DEFAULTS.clusterHeartbeatMs, ttlMs: DEFAULTS.clusterNodeTtlMs },
  ) {}

  start(): void {
    this.deps.bus.onReady(() => this.beat());
    this.timer = setInterval(() => this.beat(), this.timing.heartbeatMs);
    this.timer.unref();
  }

  isOnline(userId: string): boolean {
    if (this.deps.local.isOnline(userId)) return true;
    return Date.now() - this.lastRead <= this.timing.ttlMs && this.remote.has(userId);
  }

  /** A node stopped renewing its liveness (its awareness states must go). */
  onNodeGone(listener: (node: string) => void): void {
    this.goneListeners.push(listener);
  }

  /** A user came or went here: written now rather than at the next heartbeat. */
  changed(): void {
    this.beat();
  }

  /** Stops renewing and removes this node's keys: its users are offline at once, not after the TTL. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.beating;
    if (!this.deps.bus.up) return;
    const { bus, nodeId } = this.deps;
    await bus.commands
      .multi()
      .del(bus.key(aliveKey(nodeId)), bus.key(usersKey(nodeId)))
      .srem(bus.key(NODES), nodeId)
      .exec()
      .catch(() => {});
  }

  private beat(): void {
    if (this.beating || !this.deps.bus.up) return;
    this.beating = this.renewAndRead()
      .catch((error: unknown) => this.deps.logger.debug({ err: error }, 'presence heartbeat failed; the next one tries again'))
      .finally(() => {
        this.beating = null;
      });
  }

  private async renewAndRead(): Promise<void> {
    const { bus, nodeId, local } = this.deps;
    const users = [...local.online()];
    const ttl = this.timing.ttlMs;
    const write = bus.commands.multi().set(bus.key(aliveKey(nodeId)), '1', 'PX', ttl).del(bus.key(usersKey(nodeId)));
    if (users.length > 0) write.sadd(bus.key(usersKey(nodeId)), ...users).pexpire(bus.key(usersKey(nodeId)), ttl);
    // The list of nodes expires too once no node renews it (the whole cluster gone): nothing is left behind in Redis.
    await write.sadd(bus.key(NODES), nodeId).pexpire(bus.key(NODES), ttl * 2).exec();

    const nodes = (await bus.commands.smembers(bus.key(NODES))).filter((node) => node !== nodeId);
    const read = bus.commands.pipeline();
    for (const node of nodes) read.exists(bus.key(aliveKey(node))).smembers(bus.key(usersKey(node)));
    const replies = (await read.exec()) ?? [];
    const remote = new Set<string>();
    const live = new Set<string>();
    nodes.forEach((node, i) => {
      const alive = replies[i * 2]?.[1] === 1;
      const members = replies[i * 2 + 1]?.[1];
      if (!alive) return void bus.commands.srem(bus.key(NODES), node).catch(() => {});
      live.add(node);
      if (Array.isArray(members)) for (const user of members) if (typeof user === 'string') remote.add(user);
    });
    const settling = Date.now() - bus.upSince < this.timing.heartbeatMs + RECONNECT_MAX_MS;
    const missing = [...this.liveNodes].filter((node) => !live.has(node));
    const gone = settling ? [] : missing;
    if (settling) for (const node of missing) live.add(node);
    this.remote = remote;
    this.liveNodes = live;
    this.lastRead = Date.now();
    for (const node of gone) for (const listener of this.goneListeners) listener(node);
  }
}
