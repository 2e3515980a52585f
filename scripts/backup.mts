/**
 * A consistent copy of the live database: `npm run backup -- [target-file]`.
 * Opens DATA_DIR/parley.sqlite (default ./data) read-only beside the running
 * server and copies it with SQLite's online backup API, which reads one
 * snapshot (WAL included) and starts over if the server writes mid-copy; all
 * remaining pages go in one step so a busy server cannot keep restarting it.
 * The copy is checked with PRAGMA quick_check. Restore: see README.
 */
import { mkdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';

function fail(message: string): never {
  process.stderr.write(`backup: ${message}\n`);
  process.exit(1);
}

const dataDir = resolve(process.env.DATA_DIR ?? './data');
const source = join(dataDir, 'parley.sqlite');
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const target = resolve(process.argv[2] ?? join(dataDir, 'backups', `parley-${stamp}.sqlite`));
if (target === source) fail('the target is the live database');

let live: Database.Database;
try {
  live = new Database(source, { readonly: true, fileMustExist: true });
} catch (error) {
  fail(`cannot open ${source}: ${error instanceof Error ? error.message : String(error)}`);
}
mkdirSync(dirname(target), { recursive: true });
try {
  await live.backup(target, { progress: ({ totalPages }) => Math.max(totalPages, 100) });
} catch (error) {
  fail(`copying ${source} failed: ${error instanceof Error ? error.message : String(error)}`);
} finally {
  live.close();
}
const copy = new Database(target, { readonly: true });
const verdict = copy.pragma('quick_check(1)', { simple: true });
copy.close();
if (verdict !== 'ok') fail(`the copy ${target} fails quick_check: ${String(verdict)}`);
process.stdout.write(`backup: ${source} -> ${target} (${statSync(target).size} bytes, quick_check ok)\n`);
