/**
 * Baseline 1: stock Hocuspocus as its docs show it. The published SQLite
 * extension on a file, default store debounce, the same JWT check as Parley
 * (HS256 via jose), no validation of updates. Launched like Parley: env PORT,
 * HOST, DATA_DIR, JWT_SECRET; prints a JSON "listening" line.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Server } from '@hocuspocus/server';
import { SQLite } from '@hocuspocus/extension-sqlite';
import { jwtVerify } from 'jose';

const dataDir = process.env.DATA_DIR ?? './data';
mkdirSync(dataDir, { recursive: true });
const secret = new TextEncoder().encode(process.env.JWT_SECRET ?? '');

const server = new Server({
  port: Number(process.env.PORT ?? 0),
  address: process.env.HOST ?? '127.0.0.1',
  quiet: true,
  extensions: [new SQLite({ database: join(dataDir, 'hocuspocus.sqlite') })],
  async onAuthenticate({ token }) {
    const { payload } = await jwtVerify(token, secret, { algorithms: ['HS256'] });
    if (typeof payload.sub !== 'string' || payload.sub.length === 0) throw new Error('missing sub');
    return { user: payload.sub };
  },
});

await server.listen();
console.log(JSON.stringify({ level: 30, msg: 'listening', port: server.address.port }));
