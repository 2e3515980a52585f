import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { DEFAULTS } from '@parley/schema';
import { migrations } from './migrations';
import { SqliteStorage } from './SqliteStorage';
import { storageSuite } from './storage.suite';
import { moderationSuite } from './moderation.suite';
import { historySuite } from './history.suite';
import { deliverySuite } from './delivery.suite';

/** A database file in `dir` as the migrations up to `version` left it (an older release's). */
function databaseAt(dir: string, version: number): BetterSqlite3.Database {
  const db = new BetterSqlite3(join(dir, 'parley.sqlite'));
  db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
  for (const m of migrations.filter((m) => m.version <= version).sort((a, b) => a.version - b.version)) {
    db.exec(m.sql);
    db.prepare('INSERT INTO schema_migrations VALUES (?, ?, 0)').run(m.version, m.name);
  }
  return db;
}

/** Conversation c, ann its owner, with `texts` as its messages m0, m1, ... written straight into the index's table. */
function withMessages(db: BetterSqlite3.Database, texts: string[]): BetterSqlite3.Database {
  db.exec(`INSERT INTO conversations (id, kind, title, created_by, created_at) VALUES ('c', 'group', 't', 'ann', 0);
           INSERT INTO members VALUES ('c', 'ann', 'owner', 0);`);
  const insert = db.prepare(`INSERT INTO messages (conversation_id, seq, id, author, kind, text, created_at, reactions) VALUES ('c', ?, ?, 'ann', 'text', ?, 0, '{}')`);
  texts.forEach((text, i) => insert.run(i + 1, `m${i}`, text));
  return db;
}

storageSuite('SqliteStorage (file)', async () => SqliteStorage.inDataDir(mkdtempSync(join(tmpdir(), 'parley-store-'))));
storageSuite('SqliteStorage (memory)', async () => new SqliteStorage(':memory:'));

describe('SqliteStorage', () => {
  it('runs migrations once and keeps data across reopening', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-store-'));
    const first = SqliteStorage.inDataDir(dir);
    await first.documents.append('doc', new Uint8Array([1]));
    await first.close();
    const second = SqliteStorage.inDataDir(dir);
    expect((await second.documents.load('doc')).updates).toEqual([new Uint8Array([1])]);
    expect(second.db.prepare('SELECT count(*) FROM schema_migrations').pluck().get()).toBeGreaterThan(0);
    await second.close();
  });

  it('rebuilds the full-text index with prefix indexes in place (migration 14), searches alike, deletes stay secure', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-store-'));
    // A database as version 12 left it: the index without prefix indexes, and messages in it.
    const old = withMessages(databaseAt(dir, 12), ['invoice paid', 'tax return', 'invoices due']);
    const ftsSql = (db: BetterSqlite3.Database) => db.prepare("SELECT sql FROM sqlite_master WHERE name = 'messages_fts'").pluck().get() as string;
    expect(ftsSql(old)).not.toContain('prefix');
    old.close();

    const storage = SqliteStorage.inDataDir(dir);
    expect(ftsSql(storage.db)).toContain("prefix = '2 3 4'");
    expect(storage.db.prepare("SELECT v FROM messages_fts_config WHERE k = 'secure-delete'").pluck().get()).toBe(1);
    storage.db.prepare("INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)").run();
    const ids = async (match: string) => (await storage.messages.search({ userId: 'ann', match, window: 1000, limit: 10 })).map((h) => h.message.id).sort();
    expect(await ids('"in"*')).toEqual(['m0', 'm2']);
    expect(await ids('"invoices"*')).toEqual(['m2']);
    expect(await ids('"tax"*')).toEqual(['m1']);
    // Written after the rebuild: found by prefix, an edit re-indexed through the triggers.
    await storage.messages.write({ conversationId: 'c', messages: [{ id: 'm0', author: 'ann', kind: 'text', text: 'tally done', createdAt: 0, reactions: {} }], reads: [] });
    expect(await ids('"in"*')).toEqual(['m2']);
    expect(await ids('"ta"*')).toEqual(['m0', 'm1']);
    await storage.close();
  });

  it('builds the running unread tallies in place (migration 16), and counts from them after', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-store-'));
    // A database as version 14 left it, with two conversations' messages.
    const old = databaseAt(dir, 14);
    const insert = old.prepare(`INSERT INTO messages (conversation_id, seq, id, author, kind, text, created_at, deleted_at, reactions) VALUES (?, ?, ?, ?, ?, 'x', 0, ?, '{}')`);
    const rows: Array<[string, string, string, number | null]> = [
      ['ann', 'text', 'c1', null], ['bob', 'text', 'c2', null], ['ann', 'system', 'c3', null], ['bob', 'text', 'c4', 5], ['ann', 'text', 'c5', null], ['eve', 'text', 'c6', null],
    ];
    rows.forEach(([author, kind, id, deletedAt], i) => insert.run('c', i + 1, id, author, kind, deletedAt));
    insert.run('d', 1, 'd1', 'bob', 'text', null);
    old.close();

    const storage = SqliteStorage.inDataDir(dir);
    const tallies = storage.db.prepare("SELECT id, tally, author_tally FROM messages WHERE conversation_id = 'c' ORDER BY seq").raw().all();
    expect(tallies).toEqual([['c1', 1, 1], ['c2', 2, 1], ['c3', 2, 1], ['c4', 3, 2], ['c5', 4, 2], ['c6', 5, 1]]);
    expect(storage.db.prepare("SELECT tally, author_tally FROM messages WHERE id = 'd1'").raw().get()).toEqual([1, 1]);
    expect(await storage.messages.unread('c', 'ann')).toBe(2);
    expect(await storage.messages.unread('c', 'bob', ['eve'])).toBe(2);
    // Written after the upgrade: the tallies go on from the migrated rows.
    await storage.messages.write({ conversationId: 'c', messages: [{ id: 'c7', author: 'bob', kind: 'text', text: 'y', createdAt: 0, reactions: {} }], reads: [{ userId: 'ann', messageId: 'c4', at: 1 }] });
    expect(storage.db.prepare("SELECT tally, author_tally FROM messages WHERE id = 'c7'").raw().get()).toEqual([6, 3]);
    expect(await storage.messages.unread('c', 'ann')).toBe(2);
    await storage.close();
  });

  describe('full-text entries in batches (migration 18)', () => {
    const text = (id: string, words: string) => ({ id, author: 'ann', kind: 'text' as const, text: words, createdAt: 0, reactions: {} });
    const pending = (storage: SqliteStorage) => storage.db.prepare('SELECT count(*) FROM messages_fts_pending').pluck().get() as number;
    const indexed = (storage: SqliteStorage, word: string) =>
      storage.db.prepare('SELECT count(*) FROM messages_fts WHERE messages_fts MATCH ?').pluck().get(`"${word}"`) as number;
    // FTS5's check of an external-content index against its table: a 'delete' of an entry never written fails it. Rows
    // still waiting fail it too (their text has no entry yet), so it is made with none waiting. (SQLite's own
    // quick_check and integrity_check, which the server runs, pass with rows waiting.)
    const consistent = (storage: SqliteStorage) => {
      expect(pending(storage)).toBe(0);
      expect(storage.db.pragma('integrity_check', { simple: true })).toBe('ok');
      storage.db.prepare("INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)").run();
    };
    const ids = async (storage: SqliteStorage, match: string) => (await storage.messages.search({ userId: 'ann', match, window: 1000, limit: 50 })).map((h) => h.message.id).sort();
    const withMember = () => {
      const storage = new SqliteStorage(':memory:');
      withMessages(storage.db, []);
      return storage;
    };

    it('a search finds what waits, edited and deleted while it waited, and leaves the index consistent', async () => {
      const storage = withMember();
      await storage.messages.write({ conversationId: 'c', messages: [text('m1', 'walnut'), text('m2', 'walrus'), text('m3', 'wallaby')], reads: [] });
      expect(pending(storage)).toBe(3);
      expect(indexed(storage, 'walnut')).toBe(0);
      // Edited and removed while waiting: nothing of the old text ever reaches the index.
      await storage.messages.write({ conversationId: 'c', messages: [text('m1', 'almond')], reads: [] });
      storage.db.prepare("DELETE FROM messages WHERE id = 'm3'").run();
      expect(await ids(storage, '"wal"*')).toEqual(['m2']);
      expect(await ids(storage, '"almond"*')).toEqual(['m1']);
      expect(pending(storage)).toBe(0);
      consistent(storage);
      // Indexed rows edited and removed: their entries leave the index, the new text waits, then is found.
      await storage.messages.write({ conversationId: 'c', messages: [text('m2', 'pecan')], reads: [] });
      expect(indexed(storage, 'walrus')).toBe(0);
      expect(pending(storage)).toBe(1);
      storage.db.prepare("DELETE FROM messages WHERE id = 'm1'").run();
      expect(indexed(storage, 'almond')).toBe(0);
      expect(storage.db.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(await ids(storage, '"pecan"*')).toEqual(['m2']);
      consistent(storage);
      await storage.close();
    });

    it('a change that keeps the text keeps its entry; a batch in a failed transaction leaves nothing', async () => {
      const storage = withMember();
      await storage.messages.write({ conversationId: 'c', messages: [text('m1', 'chestnut')], reads: [] });
      await storage.messages.search({ userId: 'ann', match: '"chestnut"*', window: 1000, limit: 10 });
      // A reaction rewrites the row with the same text: nothing to re-index.
      await storage.messages.write({ conversationId: 'c', messages: [{ ...text('m1', 'chestnut'), reactions: { '👍': 1 } }], reads: [] });
      expect(pending(storage)).toBe(0);
      expect(indexed(storage, 'chestnut')).toBe(1);
      // A batch indexed inside a transaction that then fails: nothing of it stays, in the table or in the index.
      expect(() =>
        storage.db.transaction(() => {
          for (let i = 0; i < DEFAULTS.searchIndexBatch; i++) storage.messages.writeNow({ conversationId: 'c', messages: [text(`r${i}`, `acorn ${i}`)], reads: [] });
          storage.messages.writeNow({ conversationId: 'c', messages: [text('late', 'acorn late')], reads: [] });
          throw new Error('the commit fails');
        })(),
      ).toThrow('the commit fails');
      expect(pending(storage)).toBe(0);
      expect(indexed(storage, 'acorn')).toBe(0);
      await storage.messages.write({ conversationId: 'c', messages: [text('m2', 'acorn kept')], reads: [] });
      expect(await ids(storage, '"acorn"*')).toEqual(['m2']);
      consistent(storage);
      await storage.close();
    });

    it('the write that fills a batch indexes it in its own transaction', async () => {
      const storage = withMember();
      for (let i = 1; i < DEFAULTS.searchIndexBatch; i++) await storage.messages.write({ conversationId: 'c', messages: [text(`m${i}`, `hazel ${i}`)], reads: [] });
      expect(pending(storage)).toBe(DEFAULTS.searchIndexBatch - 1);
      expect(indexed(storage, 'hazel')).toBe(0);
      await storage.messages.write({ conversationId: 'c', messages: [text('last', 'hazel last')], reads: [] });
      expect(pending(storage)).toBe(0);
      expect(indexed(storage, 'hazel')).toBe(DEFAULTS.searchIndexBatch);
      consistent(storage);
      await storage.close();
    });

    it('a search on a disk that refuses writes answers from what is indexed, and indexes the rest once it can', async () => {
      const storage = withMember();
      await storage.messages.write({ conversationId: 'c', messages: [text('m0', 'maple indexed')], reads: [] });
      expect(await ids(storage, '"maple"*')).toEqual(['m0']);
      for (let i = 1; i <= 30; i++) await storage.messages.write({ conversationId: 'c', messages: [text(`m${i}`, `maple waiting ${i} ${'leaf '.repeat(40)}`)], reads: [] });
      // The file may not grow: indexing what waits needs new pages (SQLITE_FULL, a full disk).
      const pages = storage.db.pragma('page_count', { simple: true }) as number;
      storage.db.pragma(`max_page_count = ${pages}`);
      expect(await ids(storage, '"maple"*')).toEqual(['m0']);
      expect(pending(storage)).toBe(30);
      storage.db.pragma('max_page_count = 1073741823');
      expect((await ids(storage, '"maple"*')).length).toBe(31);
      consistent(storage);
      await storage.close();
    });

    it('rows left waiting by a previous run count toward the next batch', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'parley-store-'));
      const first = SqliteStorage.inDataDir(dir);
      withMessages(first.db, []);
      for (let i = 1; i < DEFAULTS.searchIndexBatch; i++) await first.messages.write({ conversationId: 'c', messages: [text(`m${i}`, `beech ${i}`)], reads: [] });
      await first.close();
      const second = SqliteStorage.inDataDir(dir);
      expect(pending(second)).toBe(DEFAULTS.searchIndexBatch - 1);
      await second.messages.write({ conversationId: 'c', messages: [text('last', 'beech last')], reads: [] });
      expect(pending(second)).toBe(0);
      consistent(second);
      await second.close();
    });

    it('upgrades in place: rows indexed by the old triggers are edited and deleted through the new ones', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'parley-store-'));
      withMessages(databaseAt(dir, 17), ['cashew one', 'cashew two']).close();
      const storage = SqliteStorage.inDataDir(dir);
      expect(pending(storage)).toBe(0);
      expect(indexed(storage, 'cashew')).toBe(2);
      await storage.messages.write({ conversationId: 'c', messages: [text('m0', 'pistachio')], reads: [] });
      storage.db.prepare("DELETE FROM messages WHERE id = 'm1'").run();
      expect(indexed(storage, 'cashew')).toBe(0);
      expect(await ids(storage, '"pistachio"*')).toEqual(['m0']);
      consistent(storage);
      await storage.close();
    });
  });
});

moderationSuite('SqliteStorage (memory)', async () => new SqliteStorage(':memory:'));
historySuite('SqliteStorage (memory)', async () => new SqliteStorage(':memory:'));
deliverySuite('SqliteStorage (memory)', async () => new SqliteStorage(':memory:'));
