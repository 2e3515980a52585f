import type { Database } from 'better-sqlite3';
import type { EventFacts, EventStore, NewJob, StoredEvent } from '../Storage';
import type { SqliteJobStore } from './SqliteJobStore';
import { statementCache } from './statementCache';

type Subject = { type: string; id: string };

export class SqliteEventStore implements EventStore {
  private readonly sql: ReturnType<typeof statementCache>;

  constructor(
    private readonly db: Database,
    private readonly jobs: SqliteJobStore,
  ) {
    this.sql = statementCache(db);
  }

  async insert(e: { id: string; type: string; body: string; recipients: string[]; receivedAt: number }, facts: EventFacts, jobs: NewJob[] = []): Promise<boolean> {
    return this.db.transaction(() => {
      const result = this.sql('INSERT INTO events (id, type, body, recipients, received_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING')
        .run(e.id, e.type, e.body, JSON.stringify(e.recipients), e.receivedAt);
      if (result.changes === 0) return false;
      for (const p of facts.parties) {
        this.sql('INSERT INTO subject_parties (subject_type, subject_id, role, user_id) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING')
          .run(p.subject.type, p.subject.id, p.role, p.userId);
      }
      for (const l of facts.links) {
        this.sql('INSERT INTO subject_links (subject_type, subject_id, job_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING').run(l.subject.type, l.subject.id, l.jobId);
      }
      if (jobs.length) this.jobs.enqueueNow(jobs, e.receivedAt);
      return true;
    }).immediate();
  }

  async has(id: string): Promise<boolean> {
    return this.sql('SELECT 1 FROM events WHERE id = ?').get(id) !== undefined;
  }

  async get(id: string): Promise<StoredEvent | null> {
    const r = this.sql('SELECT id, type, body, recipients, received_at, applied_at FROM events WHERE id = ?').get(id) as
      | { id: string; type: string; body: string; recipients: string; received_at: number; applied_at: number | null }
      | undefined;
    return r ? { id: r.id, type: r.type, body: r.body, recipients: JSON.parse(r.recipients) as string[], receivedAt: r.received_at, appliedAt: r.applied_at } : null;
  }

  async markApplied(id: string, at: number): Promise<void> {
    this.sql('UPDATE events SET applied_at = ?, last_error = NULL WHERE id = ?').run(at, id);
  }

  async pruneApplied(before: number): Promise<number> {
    return this.sql('DELETE FROM events WHERE applied_at IS NOT NULL AND received_at < ?').run(before).changes;
  }

  async parties(subject: Subject, role: string): Promise<string[]> {
    return this.sql('SELECT user_id FROM subject_parties WHERE subject_type = ? AND subject_id = ? AND role = ? ORDER BY user_id')
      .pluck()
      .all(subject.type, subject.id, role) as string[];
  }

  async jobOf(subject: Subject): Promise<string | null> {
    if (subject.type === 'job') return subject.id;
    const row = this.sql('SELECT job_id FROM subject_links WHERE subject_type = ? AND subject_id = ?').pluck().get(subject.type, subject.id);
    return (row as string | undefined) ?? null;
  }
}
