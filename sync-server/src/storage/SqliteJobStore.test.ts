import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteStorage } from './SqliteStorage';
import { jobSuite } from './jobs.suite';

const dirs = new Map<SqliteStorage, string>();
const inDir = (dir: string) => {
  const storage = SqliteStorage.inDataDir(dir);
  dirs.set(storage, dir);
  return storage;
};

jobSuite('SqliteStorage (file)', async () => inDir(mkdtempSync(join(tmpdir(), 'parley-jobs-'))), async (old) => {
  await old.close();
  return inDir(dirs.get(old as SqliteStorage)!);
});
jobSuite('SqliteStorage (memory)', async () => new SqliteStorage(':memory:'));

describe('SqliteStorage upgrade to the job queue', () => {
  it('turns the old outbox\'s pending events into event.apply jobs, the given-up ones into dead jobs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-jobs-'));
    const storage = SqliteStorage.inDataDir(dir);
    storage.db.exec(`DROP TABLE jobs; DROP TABLE job_schedules; DROP TABLE doc_sweeps; DELETE FROM schema_migrations WHERE version = 5;
      CREATE INDEX events_due ON events (attempts, next_attempt_at) WHERE applied_at IS NULL;
      INSERT INTO events (id, type, body, recipients, received_at, applied_at, attempts, last_error) VALUES
        ('pending', 't', '{}', '[]', 1, NULL, 2, 'once'), ('given-up', 't', '{}', '[]', 2, NULL, 10, 'always'), ('applied', 't', '{}', '[]', 3, 4, 0, NULL)`);
    await storage.close();
    const upgraded = SqliteStorage.inDataDir(dir);
    const jobs = await upgraded.jobs.list({ queue: 'event.apply', limit: 10 });
    expect(jobs.map((j) => [j.data, j.state, j.attempts, j.lastError]).sort()).toEqual([
      [{ eventId: 'given-up' }, 'dead', 10, 'always'],
      [{ eventId: 'pending' }, 'queued', 2, 'once'],
    ]);
    await upgraded.close();
  });
});
