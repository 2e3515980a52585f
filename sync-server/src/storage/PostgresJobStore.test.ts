import { afterAll, describe, expect, it } from 'vitest';
import { PostgresStorage } from './PostgresStorage';
import { jobSuite } from './jobs.suite';
import { createSchema, dropSchemas, TEST_DATABASE_URL } from './postgres/testDatabase';

const schemas = new Map<PostgresStorage, string>();
const open = async (schema: string) => {
  const storage = await PostgresStorage.open({ connectionString: TEST_DATABASE_URL, schema, max: 4 });
  schemas.set(storage, schema);
  return storage;
};
afterAll(() => dropSchemas(new Set(schemas.values())));

jobSuite(
  'PostgresStorage',
  async () => open(await createSchema()),
  async (old) => {
    await old.close();
    return open(schemas.get(old as PostgresStorage)!);
  },
  { shared: true },
);

describe('PostgresStorage job claims on several servers', () => {
  it('claims every job once when several stores claim at the same moment', async () => {
    const schema = await createSchema();
    const servers = await Promise.all([open(schema), open(schema), open(schema)]);
    await servers[0]!.jobs.enqueue(Array.from({ length: 60 }, (_, n) => ({ queue: 'q', data: n })), 0);
    const claimed: string[] = [];
    // Each server claims in small batches until the queue is empty, all at once.
    await Promise.all(
      servers.map(async (server) => {
        for (;;) {
          const jobs = await server.jobs.claim('q', 4, 10, 60_000, 3);
          if (jobs.length === 0) return;
          claimed.push(...jobs.map((j) => j.id));
        }
      }),
    );
    expect(claimed.length).toBe(60);
    expect(new Set(claimed).size).toBe(60);
    await Promise.all(servers.map((s) => s.close()));
  });

  it('fires a recurring slot once when several servers try it at once', async () => {
    const schema = await createSchema();
    const servers = await Promise.all([open(schema), open(schema), open(schema)]);
    const job = { queue: 'tidy', data: {} };
    await servers[0]!.jobs.fireSchedule('tidy', 0, 1_000, job);
    const fired = await Promise.all(servers.map((s) => s.jobs.fireSchedule('tidy', 1_000, 2_000, job)));
    expect(fired.filter((id) => id !== null)).toHaveLength(1);
    await Promise.all(servers.map((s) => s.close()));
  });
});
