/**
 * A write the store could not make durable: nothing of it was stored. `full`
 * when the disk (or a quota) is out of space, so callers can say so (HTTP 507)
 * rather than a generic failure; the server stays up and retries work once
 * space returns.
 */
export class StorageWriteError extends Error {
  constructor(
    readonly full: boolean,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StorageWriteError';
  }
}

/** SQLite result codes that mean the disk, not the request, is the problem. */
const FULL = new Set(['SQLITE_FULL']);
const IO = /^SQLITE_(IOERR|CANTOPEN|READONLY|CORRUPT|NOTADB|PROTOCOL)/;

// --- PostgreSQL (cluster mode, issue 15) ---
/**
 * SQLSTATE 53100 disk_full; 53xxx out of resources, 08xxx connection, 57P0x shutdown, 58xxx system
 * errors; 40P01 deadlock and 40001 serialization failure (the transaction was rolled back whole:
 * retrying it later is safe).
 */
const PG_FULL = new Set(['53100']);
const PG_DOWN = /^(08|53|57P0|58|40P01$|40001$)/;
/** The socket to PostgreSQL failed (the server restarted or is unreachable). */
const NET = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND']);
/** node-postgres reports a dropped connection without a code. */
const PG_DROPPED = /^Connection terminated|^Client has encountered a connection error|timeout exceeded when trying to connect/;

/** The error as a StorageWriteError when it is a storage failure, else null (a bug, a constraint...). */
export function asStorageFailure(error: unknown): StorageWriteError | null {
  if (error instanceof StorageWriteError) return error;
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  if (typeof code !== 'string') {
    if (error instanceof Error && PG_DROPPED.test(error.message)) return new StorageWriteError(false, `storage unreachable (${error.message}): nothing was stored`, { cause: error });
    return null;
  }
  if (FULL.has(code) || PG_FULL.has(code)) return new StorageWriteError(true, 'the disk is full: nothing was stored', { cause: error });
  if (IO.test(code) || PG_DOWN.test(code) || NET.has(code)) return new StorageWriteError(false, `storage failed (${code}): nothing was stored`, { cause: error });
  return null;
}

/**
 * A write refused because the stored document was replaced (renewed by
 * another server) since this one loaded it: nothing of it was stored, and
 * the client must open the new epoch (`document-renewed`), not retry here.
 */
export class DocumentReplacedError extends StorageWriteError {
  constructor(readonly doc: string) {
    super(false, `${doc} was replaced (renewed) since it was loaded: nothing was stored`);
    this.name = 'DocumentReplacedError';
  }
}
