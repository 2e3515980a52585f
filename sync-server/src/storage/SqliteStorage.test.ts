import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteStorage } from './SqliteStorage';
import { storageSuite } from './storage.suite';
import { moderationSuite } from './moderation.suite';
import { historySuite } from './history.suite';
import { deliverySuite } from './delivery.suite';

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
});

moderationSuite('SqliteStorage (memory)', async () => new SqliteStorage(':memory:'));
historySuite('SqliteStorage (memory)', async () => new SqliteStorage(':memory:'));
deliverySuite('SqliteStorage (memory)', async () => new SqliteStorage(':memory:'));
