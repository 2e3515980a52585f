/**
 * Presence across two nodes on a real redis-server of the test's own, taken
 * down and restarted (which loses every key, as a Redis without persistence
 * does): a node that is late to re-register is not reported gone, and a node
 * that never comes back is.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ownRedis, sparePort, type OwnRedis } from '../../../e2e/fixtures/redisServer';
import { createLogger } from '../logger';
import { ClusterPresence } from './ClusterPresence';
import { RedisBus } from './RedisBus';

const timing = { heartbeatMs: 200, ttlMs: 1_000 };
const logger = createLogger('silent');
const open: Array<{ bus: RedisBus; presence: ClusterPresence }> = [];
let redis: OwnRedis | null = null;

afterEach(async () => {
  for (const { bus, presence } of open.splice(0)) {
    await presence.stop();
    await bus.close();
  }
  await redis?.kill();
  redis = null;
});

function node(url: string, nodeId: string, user: string) {
  const bus = new RedisBus(url, 'presence-test:', logger);
  const presence = new ClusterPresence({ bus, nodeId, logger, local: { online: () => [user], isOnline: (u) => u === user } }, timing);
  const gone: string[] = [];
  presence.onNodeGone((n) => gone.push(n));
  presence.start();
  bus.start();
  open.push({ bus, presence });
  return { bus, presence, gone };
}

async function until(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function disconnect(bus: RedisBus): void {
  // ioredis stops reconnecting after disconnect(); start() connects again.
  bus.commands.disconnect();
  (bus as unknown as { subscriber: { disconnect(): void } }).subscriber.disconnect();
}

describe('ClusterPresence after a Redis restart', () => {
  it('does not report a node gone while it is still re-registering, and does once it stays away', async () => {
    redis = ownRedis(await sparePort());
    await redis.start();
    const a = node(redis.url, 'node-a', 'alice');
    const b = node(redis.url, 'node-b', 'bob');
    await until(() => b.presence.isOnline('alice') && a.presence.isOnline('bob'), 'each node to see the other');

    // Redis restarts empty; node a is slow to reconnect (held back here), node b is back at once.
    disconnect(a.bus);
    await redis.kill();
    await redis.start();
    await until(() => b.bus.up, 'node b to reconnect');
    // Several of b's heartbeats within the settling time: a is missing from Redis, yet not gone.
    await new Promise((r) => setTimeout(r, timing.heartbeatMs * 3));
    expect(b.gone).toEqual([]);

    a.bus.start();
    await until(() => b.presence.isOnline('alice'), 'alice online on node b again');
    // a re-registered within the settling time: it was never gone.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(b.gone).toEqual([]);

    // A node that stays away is gone once the settling time is over.
    disconnect(a.bus);
    await until(() => b.gone.length > 0, 'node a reported gone', timing.ttlMs + 3_000);
    expect(b.gone).toEqual(['node-a']);
    expect(b.presence.isOnline('alice')).toBe(false);
  }, 30_000);
});
