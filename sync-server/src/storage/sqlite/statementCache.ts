import type { Database, Statement } from 'better-sqlite3';

/** Prepares each SQL text once per database: preparing costs more than running a simple statement. */
export function statementCache(db: Database): (sql: string) => Statement {
  const cache = new Map<string, Statement>();
  return (sql) => {
    let statement = cache.get(sql);
    if (!statement) cache.set(sql, (statement = db.prepare(sql)));
    return statement;
  };
}
