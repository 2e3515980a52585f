import type { Database } from 'better-sqlite3';

/** Versioned schema changes, applied in order at start inside one transaction each. */
export const migrations: { version: number; name: string; sql: string }[] = [
  {
    version: 1,
    name: 'documents, conversations, users, client bindings',
    sql: `
      CREATE TABLE doc_updates (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        doc TEXT NOT NULL,
        data BLOB NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE INDEX doc_updates_by_doc ON doc_updates (doc, seq);
      CREATE TABLE doc_snapshots (
        doc TEXT PRIMARY KEY,
        data BLOB NOT NULL,
        last_seq INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE TABLE users (
        id TEXT PRIMARY KEY,
        name TEXT,
        created_at INTEGER NOT NULL,
        last_seen_at INTEGER
      );
      CREATE TABLE conversations (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        title TEXT NOT NULL,
        created_by TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        ref_type TEXT,
        ref_id TEXT,
        direct_key TEXT UNIQUE
      );
      CREATE TABLE members (
        conversation_id TEXT NOT NULL REFERENCES conversations (id),
        user_id TEXT NOT NULL,
        role TEXT NOT NULL,
        joined_at INTEGER NOT NULL,
        PRIMARY KEY (conversation_id, user_id)
      );
      CREATE INDEX members_by_user ON members (user_id);
      CREATE TABLE client_bindings (
        doc TEXT NOT NULL,
        client_id INTEGER NOT NULL,
        user_id TEXT NOT NULL,
        PRIMARY KEY (doc, client_id)
      );
    `,
  },
  {
    version: 2,
    name: 'business events outbox, subject parties, conversations awaiting notification work, push subscriptions',
    sql: `
      CREATE TABLE events (
        id TEXT PRIMARY KEY,
        type TEXT NOT NULL,
        body TEXT NOT NULL,
        recipients TEXT NOT NULL,
        received_at INTEGER NOT NULL,
        applied_at INTEGER,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT
      );
      CREATE INDEX events_pending ON events (applied_at, received_at);
      CREATE TABLE subject_parties (
        subject_type TEXT NOT NULL,
        subject_id TEXT NOT NULL,
        role TEXT NOT NULL,
        user_id TEXT NOT NULL,
        PRIMARY KEY (subject_type, subject_id, role, user_id)
      );
      CREATE TABLE subject_links (
        subject_type TEXT NOT NULL,
        subject_id TEXT NOT NULL,
        job_id TEXT NOT NULL,
        PRIMARY KEY (subject_type, subject_id)
      );
      CREATE TABLE conversation_work (
        conversation_id TEXT PRIMARY KEY,
        version INTEGER NOT NULL
      );
      CREATE TABLE push_subscriptions (
        user_id TEXT NOT NULL,
        endpoint TEXT NOT NULL,
        keys TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (user_id, endpoint)
      );
    `,
  },
  {
    version: 3,
    name: 'outbox: each event has its own next attempt time, so a failing one holds back no other',
    sql: `
      ALTER TABLE events ADD COLUMN next_attempt_at INTEGER NOT NULL DEFAULT 0;
      DROP INDEX events_pending;
      CREATE INDEX events_due ON events (attempts, next_attempt_at) WHERE applied_at IS NULL;
    `,
  },
  {
    version: 4,
    name: 'message index with full-text search, read receipts, index build state',
    sql: `
      CREATE TABLE messages (
        conversation_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        id TEXT NOT NULL,
        author TEXT NOT NULL,
        kind TEXT NOT NULL,
        text TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        reply_to TEXT,
        attachments TEXT,
        mentions TEXT,
        edited_at INTEGER,
        deleted_at INTEGER,
        reactions TEXT NOT NULL,
        PRIMARY KEY (conversation_id, id)
      );
      CREATE UNIQUE INDEX messages_by_seq ON messages (conversation_id, seq);
      CREATE VIRTUAL TABLE messages_fts USING fts5 (text, content = 'messages', content_rowid = 'rowid', tokenize = 'unicode61 remove_diacritics 2');
      CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
        INSERT INTO messages_fts (rowid, text) VALUES (new.rowid, new.text);
      END;
      CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.rowid, old.text);
      END;
      CREATE TRIGGER messages_fts_update AFTER UPDATE OF text ON messages BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.rowid, old.text);
        INSERT INTO messages_fts (rowid, text) VALUES (new.rowid, new.text);
      END;
      CREATE TABLE message_reads (
        conversation_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        message_id TEXT NOT NULL,
        at INTEGER NOT NULL,
        PRIMARY KEY (conversation_id, user_id)
      );
      CREATE TABLE message_index_state (
        conversation_id TEXT PRIMARY KEY,
        built_at INTEGER NOT NULL
      );
    `,
  },
  {
    version: 5,
    name: 'durable job queue, recurring schedules, sweep marks; pending events become event.apply jobs',
    // The old outbox gave an event up after 10 attempts (its outboxMaxAttempts then): those become dead jobs, retryable by hand.
    sql: `
      CREATE TABLE jobs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        queue TEXT NOT NULL,
        data TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('queued', 'active', 'retry', 'done', 'dead')),
        attempts INTEGER NOT NULL DEFAULT 0,
        run_at INTEGER NOT NULL,
        lease_until INTEGER,
        dedupe_key TEXT,
        last_error TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX jobs_waiting ON jobs (queue, run_at) WHERE state IN ('queued', 'retry');
      CREATE INDEX jobs_leased ON jobs (queue, lease_until) WHERE state = 'active';
      CREATE INDEX jobs_by_state ON jobs (state, queue, updated_at);
      CREATE UNIQUE INDEX jobs_pending_key ON jobs (queue, dedupe_key) WHERE dedupe_key IS NOT NULL AND state IN ('queued', 'retry');
      CREATE TABLE job_schedules (
        name TEXT PRIMARY KEY,
        next_at INTEGER NOT NULL
      );
      CREATE TABLE doc_sweeps (
        doc TEXT PRIMARY KEY,
        mark INTEGER NOT NULL,
        due_at INTEGER,
        swept_at INTEGER NOT NULL
      );
      INSERT INTO jobs (queue, data, state, attempts, run_at, dedupe_key, last_error, created_at, updated_at)
        SELECT 'event.apply', json_object('eventId', id), CASE WHEN attempts >= 10 THEN 'dead' ELSE 'queued' END, attempts,
               0, 'event:' || id, last_error, received_at, received_at
        FROM events WHERE applied_at IS NULL ORDER BY received_at, id;
      DROP INDEX events_due;
    `,
  },
  // --- Bounded live document (issue 9, item 2) ---
  {
    version: 6,
    name: 'client ids retired by live-document renewals',
    // A renewal moves a document's bindings here: a replica naming one of them is of an earlier epoch.
    sql: `
      CREATE TABLE retired_clients (
        doc TEXT NOT NULL,
        client_id INTEGER NOT NULL,
        PRIMARY KEY (doc, client_id)
      ) WITHOUT ROWID;
    `,
  },
  // --- issue 9, helper "history": notifications that left the inbox document (migration 7; 6 is reserved for the bounded live document) ---
  {
    version: 7,
    name: 'notification archive: settled notifications that left the inbox document',
    sql: `
      CREATE TABLE notification_archive (
        user_id TEXT NOT NULL,
        id TEXT NOT NULL,
        updated_at INTEGER NOT NULL,
        read_at INTEGER,
        archived_at INTEGER,
        changed_at INTEGER NOT NULL,
        body TEXT NOT NULL,
        PRIMARY KEY (user_id, id)
      );
      CREATE INDEX notification_archive_newest ON notification_archive (user_id, updated_at DESC, id DESC);
      CREATE INDEX notification_archive_age ON notification_archive (changed_at);
    `,
  },
  // --- Delivery beyond the app (issue 10): migration 8 ---
  {
    version: 8,
    name: 'delivery: a record per notification version, channel and device; digest times; contact details',
    sql: `
      CREATE TABLE deliveries (
        user_id TEXT NOT NULL,
        notification_id TEXT NOT NULL,
        version INTEGER NOT NULL,
        channel TEXT NOT NULL,
        target TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('sending', 'sent', 'failed', 'gone', 'rejected', 'uncertain')),
        attempt INTEGER NOT NULL,
        error TEXT,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (user_id, notification_id, version, channel, target)
      );
      CREATE INDEX deliveries_by_time ON deliveries (updated_at);
      CREATE TABLE email_digests (
        user_id TEXT PRIMARY KEY,
        last_sent_at INTEGER NOT NULL
      );
      ALTER TABLE users ADD COLUMN email TEXT;
      ALTER TABLE users ADD COLUMN phone TEXT;
      ALTER TABLE users ADD COLUMN email_claim TEXT;
      ALTER TABLE users ADD COLUMN phone_claim TEXT;
    `,
  },
  // --- Attachments and erasure (issue 14): version 9 is reserved for them ---
  {
    version: 9,
    name: 'attachments with their message references; FTS5 secure-delete',
    sql: `
      CREATE TABLE attachments (
        id TEXT PRIMARY KEY,
        conversation_id TEXT NOT NULL,
        url TEXT NOT NULL UNIQUE,
        uploader TEXT NOT NULL,
        blob TEXT NOT NULL,
        thumbnail TEXT,
        name TEXT NOT NULL,
        type TEXT NOT NULL,
        size INTEGER NOT NULL,
        width INTEGER,
        height INTEGER,
        created_at INTEGER NOT NULL,
        referenced_at INTEGER
      );
      CREATE INDEX attachments_by_conversation ON attachments (conversation_id, created_at);
      CREATE INDEX attachments_by_blob ON attachments (blob);
      CREATE INDEX attachments_by_thumbnail ON attachments (thumbnail) WHERE thumbnail IS NOT NULL;
      CREATE TABLE attachment_refs (
        conversation_id TEXT NOT NULL,
        message_id TEXT NOT NULL,
        attachment_id TEXT NOT NULL,
        PRIMARY KEY (conversation_id, message_id, attachment_id)
      );
      CREATE INDEX attachment_refs_by_attachment ON attachment_refs (attachment_id);
      CREATE TRIGGER attachment_refs_on_insert AFTER INSERT ON messages WHEN new.attachments IS NOT NULL BEGIN
        INSERT OR IGNORE INTO attachment_refs (conversation_id, message_id, attachment_id)
          SELECT new.conversation_id, new.id, a.id FROM json_each(new.attachments) j
          JOIN attachments a ON a.url = json_extract(j.value, '$.url') AND a.conversation_id = new.conversation_id;
        UPDATE attachments SET referenced_at = CAST(unixepoch('subsec') * 1000 AS INTEGER)
          WHERE referenced_at IS NULL AND id IN (SELECT attachment_id FROM attachment_refs WHERE conversation_id = new.conversation_id AND message_id = new.id);
      END;
      CREATE TRIGGER attachment_refs_on_update AFTER UPDATE OF attachments ON messages BEGIN
        DELETE FROM attachment_refs WHERE conversation_id = old.conversation_id AND message_id = old.id;
        INSERT OR IGNORE INTO attachment_refs (conversation_id, message_id, attachment_id)
          SELECT new.conversation_id, new.id, a.id FROM json_each(coalesce(new.attachments, '[]')) j
          JOIN attachments a ON a.url = json_extract(j.value, '$.url') AND a.conversation_id = new.conversation_id;
        UPDATE attachments SET referenced_at = CAST(unixepoch('subsec') * 1000 AS INTEGER)
          WHERE referenced_at IS NULL AND id IN (SELECT attachment_id FROM attachment_refs WHERE conversation_id = new.conversation_id AND message_id = new.id);
      END;
      -- A deleted row's tokens leave the index's b-tree at once instead of lingering until a merge.
      INSERT INTO messages_fts (messages_fts, rank) VALUES ('secure-delete', 1);
    `,
  },
  // --- Blocks and reports (issue 14, items 3 and 4): migration 10, reserved for them ---
  {
    version: 10,
    name: 'blocks and reports',
    sql: `
      CREATE TABLE blocks (
        blocker TEXT NOT NULL,
        blocked TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (blocker, blocked)
      ) WITHOUT ROWID;
      CREATE INDEX blocks_by_blocked ON blocks (blocked, blocker);
      CREATE TABLE reports (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        conversation_id TEXT NOT NULL,
        message_id TEXT NOT NULL,
        reporter TEXT NOT NULL,
        reason TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        closed_at INTEGER,
        closed_by TEXT,
        UNIQUE (conversation_id, message_id, reporter)
      );
      CREATE INDEX reports_open ON reports (created_at, id) WHERE closed_at IS NULL;
      CREATE INDEX reports_open_by_reporter ON reports (reporter) WHERE closed_at IS NULL;
    `,
  },
  // --- Erasure reaches those who left (issue 14, item 5): migration 11 ---
  {
    version: 11,
    name: 'former members, whose inboxes erasure must still reach',
    sql: `
      CREATE TABLE former_members (
        conversation_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        left_at INTEGER NOT NULL,
        PRIMARY KEY (conversation_id, user_id)
      ) WITHOUT ROWID;
    `,
  },
  // --- Delivery (issue 10, item 8): the recurring digest sweep's index of users with a digest due ---
  {
    version: 12,
    name: 'email digests due: one row per user whose digest may be due, found by time',
    sql: `
      CREATE TABLE email_digest_due (
        user_id TEXT PRIMARY KEY,
        due_at INTEGER NOT NULL,
        touched_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX email_digest_due_by_time ON email_digest_due (due_at);
    `,
  },
  // --- History at scale, performance (issue 9, helper "historyperf"): migration 14; PostgreSQL has no 14 (its tsvector index needs no prefix tables), and SQLite has no 13 ---
  {
    version: 14,
    name: 'full-text index with prefix indexes of 2, 3 and 4 characters, rebuilt in place',
    // Every search term is a prefix ("word"*). Without a prefix index FTS5 merges the doclists of
    // every term the prefix starts, all of them, before it can walk the newest matches: 4 letters
    // over 1M messages is 32,000 entries. With it, a short prefix is one doclist, walked newest
    // first and stopped at the search window. Costs about 40% more index (72 MB per 1M messages).
    // The triggers of migration 4 name the table and keep working; secure-delete (9) is set again.
    sql: `
      DROP TABLE messages_fts;
      CREATE VIRTUAL TABLE messages_fts USING fts5 (text, content = 'messages', content_rowid = 'rowid', tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3 4');
      INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');
      INSERT INTO messages_fts (messages_fts, rank) VALUES ('secure-delete', 1);
    `,
  },
  // --- Unread counts that cost O(log n), not O(unread) (issue 9, helper "unread"): migration 16, PostgreSQL 16 too ---
  {
    version: 16,
    name: 'running tallies of countable messages per conversation and per author, built in place',
    // tally: the conversation's non-system messages up to and including this row (seq order);
    // author_tally: the same for this row's author. Both fixed at insert (kind and author never
    // change), so an unread count is a difference of a few index probes; deletions, which do
    // change, are subtracted from a partial index of deleted rows (SqliteMessageIndex, UNREAD_BY_TALLY).
    sql: `
      ALTER TABLE messages ADD COLUMN tally INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE messages ADD COLUMN author_tally INTEGER NOT NULL DEFAULT 0;
      UPDATE messages SET tally = t.tally, author_tally = t.author_tally
      FROM (SELECT rowid AS row,
                   sum(kind != 'system') OVER (PARTITION BY conversation_id ORDER BY seq) AS tally,
                   sum(kind != 'system') OVER (PARTITION BY conversation_id, author ORDER BY seq) AS author_tally
            FROM messages) AS t
      WHERE messages.rowid = t.row;
      CREATE INDEX messages_by_author ON messages (conversation_id, author, seq, author_tally);
      CREATE INDEX messages_deleted ON messages (conversation_id, seq) WHERE deleted_at IS NOT NULL;
    `,
  },
  // --- One recompute per burst across nodes (issue 15, item 4): migration 17, PostgreSQL 17 too ---
  {
    version: 17,
    name: 'a recompute claims its conversation for a while, so one node recomputes a burst',
    sql: `
      ALTER TABLE conversation_work ADD COLUMN claimed_by TEXT;
      ALTER TABLE conversation_work ADD COLUMN claimed_until INTEGER;
    `,
  },
  // --- CPU per message (issue 13): migration 18; PostgreSQL has no 18 (its tsvector is a column of the row) ---
  {
    version: 18,
    name: 'full-text entries written in batches: new and edited messages wait in messages_fts_pending',
    // FTS5 writes a segment per transaction: with one message per commit that was half the commit.
    // New rows and rows whose text changed wait here instead, and SqliteMessageIndex moves them into
    // messages_fts in batches (DEFAULTS.searchIndexBatch) and before every search. A waiting row has
    // no entry in messages_fts, so the triggers only ask FTS5 to delete an entry that exists: the
    // 'delete' command of an external-content table must name what was indexed, or it corrupts it.
    // A write that sets the same text (a reaction, a receipt-only change) leaves the entry alone.
    sql: `
      CREATE TABLE messages_fts_pending (row INTEGER PRIMARY KEY);
      DROP TRIGGER messages_fts_insert;
      CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
        INSERT INTO messages_fts_pending (row) VALUES (new.rowid);
      END;
      DROP TRIGGER messages_fts_update;
      CREATE TRIGGER messages_fts_update AFTER UPDATE OF text ON messages
      WHEN old.text IS NOT new.text AND NOT EXISTS (SELECT 1 FROM messages_fts_pending WHERE row = old.rowid) BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.rowid, old.text);
        INSERT INTO messages_fts_pending (row) VALUES (new.rowid);
      END;
      DROP TRIGGER messages_fts_delete;
      CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, text)
          SELECT 'delete', old.rowid, old.text WHERE NOT EXISTS (SELECT 1 FROM messages_fts_pending WHERE row = old.rowid);
        DELETE FROM messages_fts_pending WHERE row = old.rowid;
      END;
    `,
  },
];

export function migrate(db: Database): number {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
  const applied = new Set(db.prepare('SELECT version FROM schema_migrations').pluck().all() as number[]);
  let count = 0;
  // In version order, whatever order the blocks above were added in.
  for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
    if (applied.has(migration.version)) continue;
    db.transaction(() => {
      db.exec(migration.sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(migration.version, migration.name, Date.now());
    })();
    count++;
  }
  return count;
}
