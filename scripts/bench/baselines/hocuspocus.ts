/**
 * Baseline 1: stock Hocuspocus as its docs show it. The published SQLite
 * extension on a file, default store debounce, the same JWT check as Parley
 * (HS256 via jose), no validation of updates. Launched like Parley: env PORT,
 * HOST, DATA_DIR, JWT_SECRET; prints a JSON "listening" line.
 *
 * With REDIS_URL it is the stock cluster as Hocuspocus documents it: its
 * published Redis extension (pub/sub between nodes, redlock around stores)
 * under REDIS_PREFIX, each node still storing in its own SQLite file.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Server } from '@hocuspocus/server';
import { Redis } from '@hocuspocus/extension-redis';
import { SQLite } from '@hocuspocus/extension-sqlite';
import { jwtVerify } from 'jose';

const dataDir = process.env.DATA_DIR ?? './data';
mkdirSync(dataDir, { recursive: true });
const secret = new TextEncoder().encode(process.env.JWT_SECRET ?? '');
const redisUrl = process.env.REDIS_URL ? new URL(process.env.REDIS_URL) : null;
const redis = redisUrl
  ? [new Redis({ host: redisUrl.hostname, port: Number(redisUrl.port || 6379), prefix: process.env.REDIS_PREFIX ?? 'hocuspocus' })]
  : [];

const server = new Server({
  port: Number(process.env.PORT ?? 0),
  address: process.env.HOST ?? '127.0.0.1',
  quiet: true,
  extensions: [new SQLite({ database: join(dataDir, 'hocuspocus.sqlite') }), ...redis],
  async onAuthenticate({ token }) {
    const { payload } = await jwtVerify(token, secret, { algorithms: ['HS256'] });
    if (typeof payload.sub !== 'string' || payload.sub.length === 0) throw new Error('missing sub');
    return { user: payload.sub };
  },
});

await server.listen();
console.log(JSON.stringify({ level: 30, msg: 'listening', port: server.address.port }));
