import type pg from 'pg';
import type { EventFacts, EventStore, NewJob, StoredEvent } from '../Storage';
import type { PgJobStore } from './PgJobStore';
import { changed, transaction } from './PgPool';

type Subject = { type: string; id: string };

export class PgEventStore implements EventStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly jobs: PgJobStore,
  ) {}

  async insert(e: { id: string; type: string; body: string; recipients: string[]; receivedAt: number }, facts: EventFacts, jobs: NewJob[] = []): Promise<boolean> {
    return transaction(this.pool, async (client) => {
      // Two servers receiving the same event at once: the second waits for the first's commit, then sees the conflict.
      const result = await client.query('INSERT INTO events (id, type, body, recipients, received_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING', [
        e.id,
        e.type,
        e.body,
        JSON.stringify(e.recipients),
        e.receivedAt,
      ]);
      if (changed(result) === 0) return false;
      for (const p of facts.parties) {
        await client.query('INSERT INTO subject_parties (subject_type, subject_id, role, user_id) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING', [
          p.subject.type,
          p.subject.id,
          p.role,
          p.userId,
        ]);
      }
      for (const l of facts.links) {
        await client.query('INSERT INTO subject_links (subject_type, subject_id, job_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [l.subject.type, l.subject.id, l.jobId]);
      }
      if (jobs.length) await this.jobs.enqueueWith(client, jobs, e.receivedAt);
      return true;
    });
  }

  async has(id: string): Promise<boolean> {
    return (await this.pool.query('SELECT 1 FROM events WHERE id = $1', [id])).rows.length > 0;
  }

  async get(id: string): Promise<StoredEvent | null> {
    const r = (
      await this.pool.query<{ id: string; type: string; body: string; recipients: string; received_at: number; applied_at: number | null }>(
        'SELECT id, type, body, recipients, received_at, applied_at FROM events WHERE id = $1',
        [id],
      )
    ).rows[0];
    return r ? { id: r.id, type: r.type, body: r.body, recipients: JSON.parse(r.recipients) as string[], receivedAt: r.received_at, appliedAt: r.applied_at } : null;
  }

  async markApplied(id: string, at: number): Promise<void> {
    await this.pool.query('UPDATE events SET applied_at = $1, last_error = NULL WHERE id = $2', [at, id]);
  }

  async pruneApplied(before: number): Promise<number> {
    return changed(await this.pool.query('DELETE FROM events WHERE applied_at IS NOT NULL AND received_at < $1', [before]));
  }

  async parties(subject: Subject, role: string): Promise<string[]> {
    const result = await this.pool.query<{ user_id: string }>(
      'SELECT user_id FROM subject_parties WHERE subject_type = $1 AND subject_id = $2 AND role = $3 ORDER BY user_id',
      [subject.type, subject.id, role],
    );
    return result.rows.map((r) => r.user_id);
  }

  async jobOf(subject: Subject): Promise<string | null> {
    if (subject.type === 'job') return subject.id;
    const row = (await this.pool.query<{ job_id: string }>('SELECT job_id FROM subject_links WHERE subject_type = $1 AND subject_id = $2', [subject.type, subject.id])).rows[0];
    return row?.job_id ?? null;
  }
}
