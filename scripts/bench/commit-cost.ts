/**
 * What one lone message's SQLite transaction costs, part by part (issue 13):
 * the update-log row, the message index write (with its full-text entry), the
 * recompute mark, and the COMMIT, each message in a transaction of its own, as
 * when messages arrive one at a time. Prints wall time of the body and of the
 * COMMIT and the process CPU per transaction for each variant, in one run:
 *
 *   taskset -c 1 tsx scripts/bench/commit-cost.ts [--messages=3000] [variant,...]
 *
 * Variants: `index` (today's write path), `index-fts-per-commit` (migration 4's
 * trigger: a full-text entry, so an FTS5 segment, per transaction), `no-fts`,
 * `log-only` (update-log row and mark), `empty` (BEGIN and COMMIT alone).
 * Repeat a variant to see the run's spread (default: all, twice).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStorage } from '../../sync-server/src/storage/SqliteStorage';

const args = process.argv.slice(2);
const count = Number(args.find((a) => a.startsWith('--messages='))?.slice('--messages='.length) ?? 3000);
const VARIANTS = ['index', 'index-fts-per-commit', 'no-fts', 'log-only', 'empty'] as const;
type Variant = (typeof VARIANTS)[number];
const asked = args.find((a) => !a.startsWith('--'))?.split(',') ?? [...VARIANTS, ...VARIANTS];
const variants = asked.filter((v): v is Variant => (VARIANTS as readonly string[]).includes(v));

/** The server's own storage (its pragmas, every migration) in a fresh directory, with the variant's triggers. */
function storageFor(variant: Variant): { storage: SqliteStorage; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'parley-commit-cost-'));
  const storage = SqliteStorage.inDataDir(dir);
  const db = storage.db;
  if (variant === 'index-fts-per-commit') {
    db.exec(`DROP TRIGGER messages_fts_insert;
             CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN INSERT INTO messages_fts (rowid, text) VALUES (new.rowid, new.text); END;`);
  }
  if (variant === 'no-fts') db.exec('DROP TRIGGER messages_fts_insert');
  return { storage, dir };
}

async function measure(variant: Variant): Promise<string> {
  const { storage, dir } = storageFor(variant);
  const { db, messages: index } = storage;
  const appendLog = db.prepare('INSERT INTO doc_updates (doc, data, created_at) VALUES (?, ?, ?)');
  const mark = db.prepare('INSERT INTO conversation_work (conversation_id, version) VALUES (?, 1) ON CONFLICT (conversation_id) DO UPDATE SET version = version + 1');
  // About what one chat message's Yjs update weighs.
  const update = Buffer.alloc(180, 7);
  let bodyNs = 0n;
  let commitNs = 0n;
  const cpuBefore = process.cpuUsage();
  for (let i = 0; i < count; i++) {
    const start = process.hrtime.bigint();
    db.exec('BEGIN');
    if (variant !== 'empty') {
      appendLog.run('conversation:c', update, Date.now());
      if (variant !== 'log-only') {
        index.writeNow({ conversationId: 'c', messages: [{ id: `m-${i}`, author: 'a', kind: 'text', text: `message ${i} about the invoice for the roof`, createdAt: Date.now(), reactions: {} }], reads: [] });
      }
      mark.run('c');
    }
    const body = process.hrtime.bigint();
    db.exec('COMMIT');
    commitNs += process.hrtime.bigint() - body;
    bodyNs += body - start;
  }
  const cpu = process.cpuUsage(cpuBefore);
  await storage.close();
  rmSync(dir, { recursive: true, force: true });
  const us = (ns: bigint) => (Number(ns) / count / 1000).toFixed(1);
  return `${variant.padEnd(22)} body ${us(bodyNs)} us, COMMIT ${us(commitNs)} us; CPU ${((cpu.user + cpu.system) / count).toFixed(1)} us per transaction (system ${(cpu.system / count).toFixed(1)})`;
}

for (const variant of variants) console.log(await measure(variant));
