/**
 * Several benchmarked servers of one kind forming one cluster on this
 * machine: Parley nodes sharing one fresh PostgreSQL schema (LISTEN/NOTIFY
 * between them), or stock Hocuspocus nodes joined by its Redis extension
 * under a prefix of their own. All nodes share one JWT secret, so a token
 * works on any of them.
 */
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { createSchema, dropSchemas, urlWithSchema } from '../../../sync-server/src/storage/postgres/testDatabase';
import { startServer, type BenchServer, type TargetName } from './server';

export const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface Cluster {
  name: TargetName;
  nodes: BenchServer[];
  /** Stops every node and removes what the cluster left in PostgreSQL or Redis. */
  dispose(): Promise<void>;
}

const randomTag = (): string => `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;

/** Nodes start one after another: the first migrates the schema, the others find it ready. */
export async function startCluster(name: 'parley' | 'hocuspocus', size: number, cpu?: string, options: { parleyRedis?: boolean } = {}): Promise<Cluster> {
  const secret = `bench-cluster-${randomTag()}-0123456789abcdef0123456789abcdef`;
  const schema = name === 'parley' ? await createSchema('parley_bench') : null;
  const prefix = `parley-bench-${randomTag()}`;
  const env: Record<string, string> = schema
    ? { DATABASE_URL: urlWithSchema(schema), ...(options.parleyRedis ? { REDIS_URL, REDIS_PREFIX: prefix } : {}) }
    : { REDIS_URL, REDIS_PREFIX: prefix };
  const nodes: BenchServer[] = [];
  const dispose = async (): Promise<void> => {
    await Promise.all(nodes.map((node) => node.dispose().catch(() => undefined)));
    if (schema) await dropSchemas([schema]);
    if (!schema || options.parleyRedis) await deleteRedisPrefix(prefix);
  };
  try {
    for (let i = 0; i < size; i++) nodes.push(await startServer(name, { secret, env, cpu }));
  } catch (error) {
    await dispose();
    throw error;
  }
  return { name, nodes, dispose };
}

async function deleteRedisPrefix(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

const TICKS_PER_SECOND = 100; // USER_HZ, 100 on Linux
/** CPU time (user + system, ms) a process has used, from /proc/<pid>/stat. */
export function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at field 3; utime and stime are 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
}
