import pg from 'pg';

/**
 * SQL literals, for the hot append path only: a group commit sends a whole
 * batch (BEGIN, every append's statements, COMMIT) as one multi-statement
 * query, one round trip instead of one per statement, and a multi-statement
 * query cannot take parameters. Strings go through the driver's own
 * escapeLiteral; numbers must be finite; bytes are hex.
 */
export type Literal = string | number | null | undefined | Uint8Array;

export function lit(value: Literal): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`not a finite number for SQL: ${value}`);
    return String(value);
  }
  if (typeof value === 'string') return pg.escapeLiteral(value);
  return `decode('${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex')}', 'hex')`;
}

/** `(a, b, c)` of literals. */
export const row = (...values: Literal[]): string => `(${values.map(lit).join(', ')})`;
