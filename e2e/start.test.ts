import { spawn, spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDataDir } from './fixtures/server';

const root = resolve(import.meta.dirname, '..');
const cleanEnv = (extra: Record<string, string>) => {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined && !key.startsWith('VITEST') && key !== 'NODE_ENV' && key !== 'JWT_SECRET') env[key] = value;
  return { ...env, ...extra };
};

describe('npm start, as a new user runs it', () => {
  it('builds what it needs, serves /healthz and the web app, prints how to log in, and stops cleanly on SIGTERM', async () => {
    const dataDir = tempDataDir();
    const child = spawn(process.execPath, ['scripts/start.mjs'], { cwd: root, env: cleanEnv({ PORT: '0', DATA_DIR: dataDir }), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const url = await new Promise<string>((done, fail) => {
      const timer = setInterval(() => {
        const match = /Parley is running at (http:\/\/[^\s]+)/.exec(output);
        if (match && output.includes('Dev login')) {
          clearInterval(timer);
          done(match[1]!);
        }
      }, 50);
      child.once('exit', (code) => {
        clearInterval(timer);
        fail(new Error(`exited ${code}: ${output}`));
      });
    });
    expect(output).toContain('/api/dev/login');
    expect(output).toMatch(/Dev JWT secret/);
    const health = await fetch(`${url}healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const page = await fetch(url);
    expect(page.headers.get('content-type')).toContain('text/html');
    const login = await fetch(`${url}api/dev/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId: 'newcomer' }) });
    expect(login.status).toBe(200);
    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output).toContain('"msg":"stopped"'); // the clean path, not the grace-period watchdog
  }, 180_000);

  it('refuses a bad configuration with one line naming the variable', () => {
    const run = (env: Record<string, string>) =>
      spawnSync(process.execPath, ['--import', 'tsx', 'sync-server/src/main.ts'], { cwd: root, env: cleanEnv({ DATA_DIR: tempDataDir(), ...env }), encoding: 'utf8', timeout: 30_000 });
    const badPort = run({ PORT: 'eighty' });
    expect(badPort.status).toBe(1);
    expect(badPort.stderr.trim().split('\n')).toHaveLength(1);
    expect(badPort.stderr).toContain('PORT');
    const production = run({ NODE_ENV: 'production' });
    expect(production.status).toBe(1);
    expect(production.stderr).toContain('JWT_SECRET');
    const shortSecret = run({ JWT_SECRET: 'short' });
    expect(shortSecret.stderr).toContain('JWT_SECRET');
    const cluster = run({ REDIS_URL: 'redis://127.0.0.1:6379' });
    expect(cluster.stderr).toContain('REDIS_URL');
  });
});
