/**
 * Issue 11, item 11: operations that keep data safe. A damaged database is
 * found at start and named in one line; `npm run backup` copies a live
 * server's database consistently while it is being written.
 */
import { execFile, spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, openSync, closeSync, writeSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { conversationDocName } from '@parley/schema';
import * as Y from 'yjs';
import { startServer, type TestServer } from './fixtures/server';
import { createConversation } from './fixtures/clients';

const repoRoot = resolve(import.meta.dirname, '..');
const servers: TestServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.kill().catch(() => {});
});

/** Starts the server entry on a data directory and waits for it to exit (or gives up). */
function runServer(dataDir: string): Promise<{ code: number | null; stderr: string; stdout: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'sync-server/src/main.ts')], {
      cwd: repoRoot,
      env: { ...process.env, NODE_ENV: 'test', HOST: '127.0.0.1', PORT: '0', DATA_DIR: dataDir, JWT_SECRET: 'operations-test-secret-0123456789' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const giveUp = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.once('exit', (code) => {
      clearTimeout(giveUp);
      done({ code, stderr, stdout });
    });
  });
}

/** Every message id stored for a conversation, read straight from a database file. */
function messageIdsIn(file: string, conversationId: string): string[] {
  const db = new Database(file, { readonly: true });
  try {
    const name = conversationDocName(conversationId);
    const snapshot = db.prepare('SELECT data FROM doc_snapshots WHERE doc = ?').pluck().get(name) as Buffer | undefined;
    const updates = db.prepare('SELECT data FROM doc_updates WHERE doc = ? ORDER BY seq').pluck().all(name) as Buffer[];
    const doc = new Y.Doc();
    for (const part of [...(snapshot ? [snapshot] : []), ...updates]) Y.applyUpdate(doc, new Uint8Array(part));
    return (doc.getArray('messages').toArray() as Y.Map<unknown>[]).map((m) => m.get('id') as string);
  } finally {
    db.close();
  }
}

describe('operations', () => {
  it('refuses to start on a damaged database, naming the file in one line', async () => {
    const server = await startServer();
    servers.push(server);
    const id = await createConversation(server, 'alice', ['bob']);
    const token = await server.token('alice');
    for (let i = 0; i < 50; i++) await server.api(`/api/conversations/${id}/messages`, { token, body: { text: `m${i} ${'x'.repeat(2_000)}` } });
    expect(await server.stop()).toBe(0);

    const damagedDir = mkdtempSync(join(tmpdir(), 'parley-damaged-'));
    const file = join(damagedDir, 'parley.sqlite');
    copyFileSync(join(server.dataDir, 'parley.sqlite'), file);
    // Garbage over every page after the first: the header still reads, the B-trees do not.
    const fd = openSync(file, 'r+');
    const garbage = Buffer.alloc(statSync(file).size - 4096, 0xa5);
    writeSync(fd, garbage, 0, garbage.length, 4096);
    closeSync(fd);

    const { code, stderr } = await runServer(damagedDir);
    expect(code).toBe(1);
    const lines = stderr.trim().split('\n');
    expect(lines, stderr).toHaveLength(1);
    expect(lines[0]).toContain(file);
    expect(lines[0]).toMatch(/damaged/);
  });

  it('npm run backup copies a live database while it is written: the copy passes quick_check and holds what was acknowledged before', async () => {
    const server = await startServer();
    servers.push(server);
    const id = await createConversation(server, 'alice', ['bob']);
    const token = await server.token('alice');
    const before: string[] = [];
    for (let i = 0; i < 200; i++) {
      const answer = await server.api(`/api/conversations/${id}/messages`, { token, body: { id: `b${i}`, text: `before ${i} ${'x'.repeat(1_000)}` } });
      expect(answer.status).toBe(201);
      before.push(`b${i}`);
    }
    // Writers keep going through the whole backup.
    let writing = true;
    let during = 0;
    const writer = (async () => {
      while (writing) {
        await server.api(`/api/conversations/${id}/messages`, { token, body: { text: `during ${during++} ${'y'.repeat(1_000)}` } });
      }
    })();
    const target = join(mkdtempSync(join(tmpdir(), 'parley-backup-')), 'copy.sqlite');
    let stdout: string;
    try {
      ({ stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', join(repoRoot, 'scripts/backup.mts'), target], {
        cwd: repoRoot,
        env: { ...process.env, DATA_DIR: server.dataDir },
      }));
    } finally {
      writing = false;
      await writer;
    }
    expect(stdout).toMatch(/quick_check ok/);
    expect(during).toBeGreaterThan(0);

    const copy = new Database(target, { readonly: true });
    expect(copy.pragma('quick_check', { simple: true })).toBe('ok');
    copy.close();
    const stored = messageIdsIn(target, id);
    expect(before.filter((m) => !stored.includes(m))).toEqual([]);
    // The server is unharmed and still writing.
    expect((await server.api(`/api/conversations/${id}/messages`, { token, body: { text: 'after' } })).status).toBe(201);
  });
});
