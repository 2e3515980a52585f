import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { GroupCommit } from './GroupCommit';

function table() {
  const db = new BetterSqlite3(':memory:');
  db.exec('CREATE TABLE t (v INTEGER NOT NULL)');
  const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
  const count = () => db.prepare('SELECT count(*) FROM t').pluck().get() as number;
  return { db, insert, count, commits: new GroupCommit(db) };
}

describe('GroupCommit', () => {
  it('commits the writes queued in one stretch of code together, right after it', async () => {
    const { insert, count, commits } = table();
    const writes = [1, 2, 3].map((v) => commits.run(() => insert.run(v).changes));
    expect(count()).toBe(0);
    expect(await Promise.all(writes)).toEqual([1, 1, 1]);
    expect(count()).toBe(3);
  });

  it('commits writes that promise chains of different lengths queue in one stretch together', async () => {
    const { db, insert, count, commits } = table();
    let transactions = 0;
    const transaction = db.transaction.bind(db);
    db.transaction = ((fn: (...args: unknown[]) => unknown) => {
      transactions++;
      return transaction(fn);
    }) as typeof db.transaction;
    const hops = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i++) await Promise.resolve();
    };
    // As two inboxes of one recompute: one written at once, the other after a few more awaits.
    const writes = [0, 1, 5, 20].map(async (n) => {
      await hops(n);
      return commits.run(() => insert.run(n).changes);
    });
    expect(await Promise.all(writes)).toEqual([1, 1, 1, 1]);
    expect(count()).toBe(4);
    expect(transactions).toBe(1);
  });

  it('fails every write of a commit that fails, stores none of them, and goes on afterwards', async () => {
    const { insert, count, commits } = table();
    const good = commits.run(() => insert.run(1));
    const bad = commits.run(() => insert.run(null));
    await expect(good).rejects.toThrow(/NOT NULL/);
    await expect(bad).rejects.toThrow(/NOT NULL/);
    expect(count()).toBe(0);
    await commits.run(() => insert.run(2));
    expect(count()).toBe(1);
  });

  it('settles at once when nothing is queued, and after the queue otherwise', async () => {
    const { insert, count, commits } = table();
    await commits.settled();
    void commits.run(() => insert.run(1));
    await commits.settled();
    expect(count()).toBe(1);
  });

  it('tells each write of a failed commit, in the commit itself, before anything queued later commits', async () => {
    const { db, insert, commits } = table();
    const failed: string[] = [];
    const first = commits.run(() => insert.run(1), () => failed.push('first'));
    const bad = commits.run(() => insert.run(null), () => failed.push('bad'));
    commits.flush();
    expect(failed).toEqual(['first', 'bad']);
    await expect(first).rejects.toThrow(/NOT NULL/);
    await expect(bad).rejects.toThrow(/NOT NULL/);
    expect(db.prepare('SELECT count(*) FROM t').pluck().get()).toBe(0);
  });
});
