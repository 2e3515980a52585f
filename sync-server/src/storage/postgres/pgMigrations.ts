/**
 * PostgreSQL's own list of schema changes, applied in order at start (see
 * PgMigrator), each in one transaction. It is a separate list from SQLite's
 * (storage/migrations.ts): the SQL differs (BYTEA, BIGSERIAL, tsvector instead
 * of FTS5) and PostgreSQL never had SQLite's intermediate shapes, so its first
 * entry is the baseline that SQLite reached after its migrations 1-5.
 *
 * Numbers follow SQLite's: PostgreSQL migration N brings what SQLite migration
 * N brings, so both stores say "schema version N" of the same tables. A later
 * SQLite migration (6 and up: bounded live document, inbox bounding, delivery
 * records, attachments, blocks and reports) is added here as the entry with
 * the same number; a number one store does not need is simply absent from its
 * list (versions only have to grow).
 *
 * Text keys are `COLLATE "C"`: SQLite compares bytes, and prefix ranges
 * (the sweep's `doc >= 'inbox:' AND doc < 'inbox;'`) and orderings must not
 * depend on the database's locale.
 */
export interface PgMigration {
  version: number;
  name: string;
  sql: string;
}

const KEY = 'TEXT COLLATE "C"';

export const pgMigrations: PgMigration[] = [
  {
    version: 5,
    name: 'baseline (SQLite 1-5): documents, conversations, users, client bindings, events, work marks, push subscriptions, message index with tsvector search, job queue, schedules, sweep marks',
    sql: `
      CREATE TABLE doc_updates (
        seq BIGSERIAL PRIMARY KEY,
        doc ${KEY} NOT NULL,
        data BYTEA NOT NULL,
        created_at BIGINT NOT NULL
      );
      CREATE INDEX doc_updates_by_doc ON doc_updates (doc, seq);
      CREATE TABLE doc_snapshots (
        doc ${KEY} PRIMARY KEY,
        data BYTEA NOT NULL,
        last_seq BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
      );
      CREATE TABLE users (
        id ${KEY} PRIMARY KEY,
        name TEXT,
        created_at BIGINT NOT NULL,
        last_seen_at BIGINT
      );
      CREATE TABLE conversations (
        id ${KEY} PRIMARY KEY,
        kind TEXT NOT NULL,
        title TEXT NOT NULL,
        created_by TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        ref_type TEXT,
        ref_id TEXT,
        direct_key ${KEY} UNIQUE
      );
      CREATE TABLE members (
        conversation_id ${KEY} NOT NULL REFERENCES conversations (id),
        user_id ${KEY} NOT NULL,
        role TEXT NOT NULL,
        joined_at BIGINT NOT NULL,
        PRIMARY KEY (conversation_id, user_id)
      );
      CREATE INDEX members_by_user ON members (user_id);
      CREATE TABLE client_bindings (
        doc ${KEY} NOT NULL,
        client_id BIGINT NOT NULL,
        user_id TEXT NOT NULL,
        PRIMARY KEY (doc, client_id)
      );
      CREATE TABLE events (
        id ${KEY} PRIMARY KEY,
        type TEXT NOT NULL,
        body TEXT NOT NULL,
        recipients TEXT NOT NULL,
        received_at BIGINT NOT NULL,
        applied_at BIGINT,
        last_error TEXT
      );
      CREATE TABLE subject_parties (
        subject_type ${KEY} NOT NULL,
        subject_id ${KEY} NOT NULL,
        role ${KEY} NOT NULL,
        user_id ${KEY} NOT NULL,
        PRIMARY KEY (subject_type, subject_id, role, user_id)
      );
      CREATE TABLE subject_links (
        subject_type ${KEY} NOT NULL,
        subject_id ${KEY} NOT NULL,
        job_id TEXT NOT NULL,
        PRIMARY KEY (subject_type, subject_id)
      );
      CREATE TABLE conversation_work (
        conversation_id ${KEY} PRIMARY KEY,
        version INTEGER NOT NULL
      );
      CREATE TABLE push_subscriptions (
        user_id ${KEY} NOT NULL,
        endpoint ${KEY} NOT NULL,
        keys TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        PRIMARY KEY (user_id, endpoint)
      );
      CREATE TABLE messages (
        row_id BIGSERIAL UNIQUE,
        conversation_id ${KEY} NOT NULL,
        seq BIGINT NOT NULL,
        id ${KEY} NOT NULL,
        author ${KEY} NOT NULL,
        kind TEXT NOT NULL,
        text TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        reply_to TEXT,
        attachments TEXT,
        mentions TEXT,
        edited_at BIGINT,
        deleted_at BIGINT,
        reactions TEXT NOT NULL,
        search TSVECTOR NOT NULL,
        PRIMARY KEY (conversation_id, id)
      );
      CREATE UNIQUE INDEX messages_by_seq ON messages (conversation_id, seq);
      CREATE INDEX messages_search ON messages USING GIN (search);
      CREATE TABLE message_reads (
        conversation_id ${KEY} NOT NULL,
        user_id ${KEY} NOT NULL,
        message_id ${KEY} NOT NULL,
        at BIGINT NOT NULL,
        PRIMARY KEY (conversation_id, user_id)
      );
      CREATE TABLE message_index_state (
        conversation_id ${KEY} PRIMARY KEY,
        built_at BIGINT NOT NULL
      );
      CREATE TABLE jobs (
        id BIGSERIAL PRIMARY KEY,
        queue ${KEY} NOT NULL,
        data TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('queued', 'active', 'retry', 'done', 'dead')),
        attempts INTEGER NOT NULL DEFAULT 0,
        run_at BIGINT NOT NULL,
        lease_until BIGINT,
        dedupe_key ${KEY},
        last_error TEXT,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
      );
      CREATE INDEX jobs_waiting ON jobs (queue, run_at) WHERE state IN ('queued', 'retry');
      CREATE INDEX jobs_leased ON jobs (queue, lease_until) WHERE state = 'active';
      CREATE INDEX jobs_by_state ON jobs (state, queue, updated_at);
      CREATE UNIQUE INDEX jobs_pending_key ON jobs (queue, dedupe_key) WHERE dedupe_key IS NOT NULL AND state IN ('queued', 'retry');
      CREATE TABLE job_schedules (
        name ${KEY} PRIMARY KEY,
        next_at BIGINT NOT NULL
      );
      CREATE TABLE doc_sweeps (
        doc ${KEY} PRIMARY KEY,
        mark BIGINT NOT NULL,
        due_at BIGINT,
        swept_at BIGINT NOT NULL
      );
    `,
  },
  // --- Bounded live document (issue 9, item 2): SQLite migration 6 ---
  {
    version: 6,
    name: 'client ids retired by live-document renewals',
    sql: `
      CREATE TABLE retired_clients (
        doc ${KEY} NOT NULL,
        client_id BIGINT NOT NULL,
        PRIMARY KEY (doc, client_id)
      );
    `,
  },
  // --- Notification archive (issue 9, helper "history"): SQLite migration 7 ---
  {
    version: 7,
    name: 'notification archive: settled notifications that left the inbox document',
    sql: `
      CREATE TABLE notification_archive (
        user_id ${KEY} NOT NULL,
        id ${KEY} NOT NULL,
        updated_at BIGINT NOT NULL,
        read_at BIGINT,
        archived_at BIGINT,
        changed_at BIGINT NOT NULL,
        body TEXT NOT NULL,
        PRIMARY KEY (user_id, id)
      );
      CREATE INDEX notification_archive_newest ON notification_archive (user_id, updated_at DESC, id DESC);
      CREATE INDEX notification_archive_age ON notification_archive (changed_at);
    `,
  },
  // --- Delivery (issue 10): SQLite migration 8 ---
  {
    version: 8,
    name: 'delivery: a record per notification version, channel and device; digest times; contact details',
    sql: `
      CREATE TABLE deliveries (
        user_id ${KEY} NOT NULL,
        notification_id ${KEY} NOT NULL,
        version BIGINT NOT NULL,
        channel ${KEY} NOT NULL,
        target ${KEY} NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('sending', 'sent', 'failed', 'gone', 'rejected', 'uncertain')),
        attempt INTEGER NOT NULL,
        error TEXT,
        updated_at BIGINT NOT NULL,
        PRIMARY KEY (user_id, notification_id, version, channel, target)
      );
      CREATE INDEX deliveries_by_time ON deliveries (updated_at);
      CREATE TABLE email_digests (
        user_id ${KEY} PRIMARY KEY,
        last_sent_at BIGINT NOT NULL
      );
      ALTER TABLE users ADD COLUMN email TEXT;
      ALTER TABLE users ADD COLUMN phone TEXT;
      ALTER TABLE users ADD COLUMN email_claim TEXT;
      ALTER TABLE users ADD COLUMN phone_claim TEXT;
    `,
  },
  // --- Attachments (issue 14): SQLite migration 9 ---
  // The references are kept by a trigger on the message index, as SQLite's are: so they
  // change in the index write's own transaction, whichever path (append, write, writeArchived)
  // wrote the row. (FTS5's secure-delete has no counterpart to switch on: a tsvector lives in
  // the row itself; what VACUUM can and cannot promise is PostgresStorage.scrub's.)
  {
    version: 9,
    name: 'attachments with their message references',
    sql: `
      CREATE TABLE attachments (
        id ${KEY} PRIMARY KEY,
        conversation_id ${KEY} NOT NULL,
        url ${KEY} NOT NULL UNIQUE,
        uploader TEXT NOT NULL,
        blob ${KEY} NOT NULL,
        thumbnail ${KEY},
        name TEXT NOT NULL,
        type TEXT NOT NULL,
        size BIGINT NOT NULL,
        width INTEGER,
        height INTEGER,
        created_at BIGINT NOT NULL,
        referenced_at BIGINT
      );
      CREATE INDEX attachments_by_conversation ON attachments (conversation_id, created_at);
      CREATE INDEX attachments_by_blob ON attachments (blob);
      CREATE INDEX attachments_by_thumbnail ON attachments (thumbnail) WHERE thumbnail IS NOT NULL;
      CREATE TABLE attachment_refs (
        conversation_id ${KEY} NOT NULL,
        message_id ${KEY} NOT NULL,
        attachment_id ${KEY} NOT NULL,
        PRIMARY KEY (conversation_id, message_id, attachment_id)
      );
      CREATE INDEX attachment_refs_by_attachment ON attachment_refs (attachment_id);
      CREATE FUNCTION attachment_refs_follow() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'UPDATE' THEN
          DELETE FROM attachment_refs WHERE conversation_id = OLD.conversation_id AND message_id = OLD.id;
        END IF;
        IF NEW.attachments IS NULL THEN
          RETURN NULL;
        END IF;
        INSERT INTO attachment_refs (conversation_id, message_id, attachment_id)
          SELECT NEW.conversation_id, NEW.id, a.id
          FROM jsonb_array_elements(NEW.attachments::jsonb) j
          JOIN attachments a ON a.url = j.value ->> 'url' AND a.conversation_id = NEW.conversation_id
          ON CONFLICT DO NOTHING;
        UPDATE attachments SET referenced_at = (extract(epoch FROM clock_timestamp()) * 1000)::bigint
          WHERE referenced_at IS NULL
            AND id IN (SELECT attachment_id FROM attachment_refs WHERE conversation_id = NEW.conversation_id AND message_id = NEW.id);
        RETURN NULL;
      END
      $$;
      CREATE TRIGGER attachment_refs_on_insert AFTER INSERT ON messages
        FOR EACH ROW WHEN (NEW.attachments IS NOT NULL) EXECUTE FUNCTION attachment_refs_follow();
      CREATE TRIGGER attachment_refs_on_update AFTER UPDATE OF attachments ON messages
        FOR EACH ROW EXECUTE FUNCTION attachment_refs_follow();
    `,
  },
  // --- Blocks and reports (issue 14, items 3 and 4): SQLite migration 10 ---
  {
    version: 10,
    name: 'blocks and reports',
    sql: `
      CREATE TABLE blocks (
        blocker ${KEY} NOT NULL,
        blocked ${KEY} NOT NULL,
        created_at BIGINT NOT NULL,
        PRIMARY KEY (blocker, blocked)
      );
      CREATE INDEX blocks_by_blocked ON blocks (blocked, blocker);
      CREATE TABLE reports (
        id BIGSERIAL PRIMARY KEY,
        conversation_id ${KEY} NOT NULL,
        message_id ${KEY} NOT NULL,
        reporter ${KEY} NOT NULL,
        reason TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        closed_at BIGINT,
        closed_by TEXT,
        UNIQUE (conversation_id, message_id, reporter)
      );
      CREATE INDEX reports_open ON reports (created_at, id) WHERE closed_at IS NULL;
      CREATE INDEX reports_open_by_reporter ON reports (reporter) WHERE closed_at IS NULL;
    `,
  },
  // --- Erasure reaches those who left (issue 14, item 5): SQLite migration 11 ---
  {
    version: 11,
    name: 'former members, whose inboxes erasure must still reach',
    sql: `
      CREATE TABLE former_members (
        conversation_id ${KEY} NOT NULL,
        user_id ${KEY} NOT NULL,
        left_at BIGINT NOT NULL,
        PRIMARY KEY (conversation_id, user_id)
      );
    `,
  },
  // --- Delivery (issue 10, item 8): SQLite migration 12 ---
  {
    version: 12,
    name: 'email digests due: one row per user whose digest may be due, found by time',
    sql: `
      CREATE TABLE email_digest_due (
        user_id ${KEY} PRIMARY KEY,
        due_at BIGINT NOT NULL,
        touched_at BIGINT NOT NULL
      );
      CREATE INDEX email_digest_due_by_time ON email_digest_due (due_at);
    `,
  },
  // --- Several servers on one store (issue 15): PostgreSQL only, SQLite has no 13 ---
  {
    version: 13,
    name: 'document generations: a renewal bumps it, an append of an older one fails',
    sql: `
      ALTER TABLE doc_snapshots ADD COLUMN generation BIGINT NOT NULL DEFAULT 0;
      -- Raised inside an append's transaction when the stored document was replaced (renewed)
      -- since the appending server loaded it: SQLSTATE PRL01, the document in DETAIL (see
      -- PgGroupCommit, which fails that document's writes alone and commits the rest).
      CREATE FUNCTION parley_fence(d TEXT, g BIGINT) RETURNS void LANGUAGE plpgsql AS $$
      BEGIN
        IF coalesce((SELECT generation FROM doc_snapshots WHERE doc = d), 0) <> g THEN
          RAISE EXCEPTION 'the stored document was replaced since it was loaded (generation %)', g
            USING ERRCODE = 'PRL01', DETAIL = d;
        END IF;
      END
      $$;
    `,
  },
  // --- Attachment bytes every server can serve (issue 15 with issue 14): PostgreSQL only, SQLite has no 15 ---
  {
    version: 15,
    name: 'attachment blobs in the database, so any server serves a file any server received',
    sql: `
      CREATE TABLE attachment_blobs (
        hash ${KEY} PRIMARY KEY,
        data BYTEA NOT NULL
      );
      -- Uncompressed out-of-line storage: a range request reads only the pages it needs
      -- (substring on EXTERNAL bytea), and uploads are mostly compressed media anyway.
      ALTER TABLE attachment_blobs ALTER COLUMN data SET STORAGE EXTERNAL;
    `,
  },
  // --- Unread counts that cost O(log n), not O(unread) (issue 9, helper "unread"): migration 16, SQLite 16 too ---
  {
    version: 16,
    name: 'running tallies of countable messages per conversation and per author, built in place',
    // As SQLite's migration 16: tally / author_tally are the conversation's / the author's
    // non-system messages up to and including the row, fixed at insert (PgMessageIndex, UNREAD_BY_TALLY).
    sql: `
      ALTER TABLE messages ADD COLUMN tally BIGINT NOT NULL DEFAULT 0, ADD COLUMN author_tally BIGINT NOT NULL DEFAULT 0;
      UPDATE messages SET tally = t.tally, author_tally = t.author_tally
      FROM (SELECT row_id,
                   sum((kind <> 'system')::int) OVER (PARTITION BY conversation_id ORDER BY seq) AS tally,
                   sum((kind <> 'system')::int) OVER (PARTITION BY conversation_id, author ORDER BY seq) AS author_tally
            FROM messages) AS t
      WHERE messages.row_id = t.row_id;
      CREATE INDEX messages_by_author ON messages (conversation_id, author, seq) INCLUDE (author_tally);
      CREATE INDEX messages_deleted ON messages (conversation_id, seq) WHERE deleted_at IS NOT NULL;
    `,
  },
  // --- One recompute per burst across nodes (issue 15, item 4): migration 17, SQLite 17 too ---
  {
    version: 17,
    name: 'a recompute claims its conversation for a while, so one node recomputes a burst',
    sql: `
      ALTER TABLE conversation_work ADD COLUMN claimed_by TEXT, ADD COLUMN claimed_until BIGINT;
    `,
  },
];
