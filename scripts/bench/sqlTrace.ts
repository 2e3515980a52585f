/**
 * Counts and times every SQLite statement a Parley server runs, by statement
 * text: how many, and how long in total (wall time inside better-sqlite3,
 * COMMITs of `db.transaction` included under "txn"). For naming what a message
 * costs in SQL (issue 13), beside a CPU profile, which shows only "run (native)".
 * Preload it into the benchmarked servers; each writes its table when it exits
 * and on SIGUSR2 (then starts counting afresh, so a window can be cut out):
 *
 *   NODE_OPTIONS="--import tsx --import ./scripts/bench/sqlTrace.ts" BENCH_SQL_TRACE_DIR=/tmp/sql \
 *     taskset -c 1 npx tsx scripts/bench/cpu-per-message.ts --rounds=2
 *
 * Tables land in $BENCH_SQL_TRACE_DIR/sql-<pid>-<n|exit>.txt. Only processes
 * running sync-server/src/main.ts count (not the benchmark driver).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';

const dir = process.env.BENCH_SQL_TRACE_DIR;
if (dir && process.argv.some((arg) => arg.endsWith('sync-server/src/main.ts'))) trace(dir);

function trace(outDir: string): void {
  const totals = new Map<string, { count: number; ns: number }>();
  const add = (label: string, since: bigint): void => {
    const entry = totals.get(label) ?? { count: 0, ns: 0 };
    entry.count++;
    entry.ns += Number(process.hrtime.bigint() - since);
    totals.set(label, entry);
  };
  const short = (sql: string, length: number): string => sql.replace(/\s+/g, ' ').trim().slice(0, length);
  type Statement = Record<'run' | 'get' | 'all', (...args: unknown[]) => unknown> & { source: string };
  const proto = BetterSqlite3.prototype as unknown as Record<'prepare' | 'transaction' | 'exec', (...args: never[]) => unknown>;
  const prepare = proto.prepare as (this: BetterSqlite3.Database, sql: string) => Statement;
  let statementsPatched = false;
  proto.prepare = function (this: BetterSqlite3.Database, sql: string) {
    const statement = prepare.call(this, sql);
    if (!statementsPatched) {
      // Every statement shares one native prototype: patched once, through the first.
      statementsPatched = true;
      const statementProto = Object.getPrototypeOf(statement) as Statement;
      for (const method of ['run', 'get', 'all'] as const) {
        const original = statementProto[method];
        statementProto[method] = function (this: Statement, ...args: unknown[]) {
          const start = process.hrtime.bigint();
          try {
            return original.apply(this, args);
          } finally {
            add(`${method} ${short(this.source, 140)}`, start);
          }
        };
      }
    }
    return statement;
  } as never;
  const transaction = proto.transaction as (this: BetterSqlite3.Database, fn: (...args: unknown[]) => unknown) => BetterSqlite3.Transaction;
  proto.transaction = function (this: BetterSqlite3.Database, fn: (...args: unknown[]) => unknown) {
    const wrapped = transaction.call(this, fn);
    const label = `txn ${fn.name || short(fn.toString(), 80)}`;
    const timed = Object.assign(
      function (this: unknown, ...args: unknown[]) {
        const start = process.hrtime.bigint();
        try {
          return wrapped.apply(this, args);
        } finally {
          add(label, start);
        }
      },
      { deferred: wrapped.deferred, immediate: wrapped.immediate, exclusive: wrapped.exclusive, default: wrapped.default },
    );
    return timed;
  } as never;
  const exec = proto.exec as (this: BetterSqlite3.Database, sql: string) => unknown;
  proto.exec = function (this: BetterSqlite3.Database, sql: string) {
    const start = process.hrtime.bigint();
    try {
      return exec.call(this, sql);
    } finally {
      add(`exec ${short(sql, 100)}`, start);
    }
  } as never;
  let dumps = 0;
  const write = (tag: string): void => {
    const rows = [...totals].sort((a, b) => b[1].ns - a[1].ns).map(([label, t]) => `${String(t.count).padStart(7)} ${(t.ns / 1e6).toFixed(1).padStart(9)} ms  ${label}`);
    writeFileSync(join(outDir, `sql-${process.pid}-${tag}.txt`), `${rows.join('\n')}\n`);
  };
  process.on('SIGUSR2', () => {
    write(String(dumps++));
    totals.clear();
  });
  process.on('exit', () => write('exit'));
}
