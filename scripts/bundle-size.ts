/**
 * The web app's production bundle: builds it into a temp folder and prints
 * each file's raw and gzip size, and the total JavaScript and CSS gzip size.
 *
 *   npx tsx scripts/bundle-size.ts
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { buildApp } from '../e2e/fixtures/browser';

const dir = buildApp();
const files: string[] = [];
const walk = (path: string) => {
  for (const name of readdirSync(path)) {
    const full = join(path, name);
    if (statSync(full).isDirectory()) walk(full);
    else if (/\.(js|css|html)$/.test(name)) files.push(full);
  }
};
walk(dir);
let jsGzip = 0;
let cssGzip = 0;
const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
for (const file of files.sort()) {
  const raw = readFileSync(file);
  const gzip = gzipSync(raw, { level: 9 }).length;
  if (file.endsWith('.js') && !file.endsWith('sw.js')) jsGzip += gzip;
  if (file.endsWith('.css')) cssGzip += gzip;
  console.log(`${file.slice(dir.length + 1).padEnd(40)} ${kb(raw.length).padStart(10)} raw ${kb(gzip).padStart(10)} gzip`);
}
console.log(`\napp JavaScript (gzip): ${kb(jsGzip)}; CSS (gzip): ${kb(cssGzip)}; service worker not counted (loaded apart)`);
