import { statSync } from 'node:fs';
import type { Database } from 'better-sqlite3';
import { DEFAULTS } from '@parley/schema';

/** The database file is damaged (or not a database): the server must not start on it. */
export class CorruptDatabaseError extends Error {
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(`database ${file} is damaged (${detail.replace(/\s+/g, ' ').trim()}); restore a backup (see README, "Backup and restore")`);
    this.name = 'CorruptDatabaseError';
  }
}

/** SQLite result codes that mean the file itself is bad. */
const DAMAGED = /^SQLITE_(CORRUPT|NOTADB)/;

export const isDamage = (error: unknown): boolean =>
  typeof error === 'object' && error !== null && DAMAGED.test(String((error as { code?: unknown }).code ?? ''));

/**
 * `PRAGMA quick_check` (the B-trees and their pages, without cross-checking
 * indexes against tables: O(size), a second or so per few hundred MB). Past
 * `maxBytes` only the header and schema are read, so a big database never
 * holds a restart up for minutes; a damaged page there surfaces as
 * SQLITE_CORRUPT on the first read of it instead.
 */
export function checkIntegrity(db: Database, file: string, maxBytes: number = DEFAULTS.startupQuickCheckMaxBytes): void {
  const size = file === ':memory:' ? 0 : (statSync(file, { throwIfNoEntry: false })?.size ?? 0);
  if (size > maxBytes) {
    db.prepare('SELECT count(*) FROM sqlite_master').pluck().get();
    return;
  }
  const verdict = db.pragma('quick_check(1)', { simple: true });
  if (verdict !== 'ok') throw new CorruptDatabaseError(file, String(verdict));
}
