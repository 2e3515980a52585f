#!/usr/bin/env node
// `npm start`: build the web app if it is missing or older than its sources, then run the server.
// Plain JavaScript so it runs before anything is built.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const clientDir = join(root, 'client');
const builtIndex = join(clientDir, 'dist', 'index.html');

function newestMtime(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newestMtime(join(path, name))));
}

function webAppIsStale() {
  if (!existsSync(join(clientDir, 'index.html'))) return false; // no web app in this checkout
  if (!existsSync(builtIndex)) return true;
  const sources = [join(clientDir, 'src'), join(clientDir, 'index.html'), join(root, 'schema', 'src')].filter(existsSync);
  return Math.max(...sources.map(newestMtime)) > statSync(builtIndex).mtimeMs;
}

if (webAppIsStale()) {
  console.log('Building the web app...');
  const build = spawnSync('npm', ['run', 'build', '-w', '@parley/client'], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status ?? 1);
}

const server = spawn(process.execPath, ['--import', 'tsx', join(root, 'sync-server', 'src', 'main.ts')], { cwd: root, stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.kill(signal));
server.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
