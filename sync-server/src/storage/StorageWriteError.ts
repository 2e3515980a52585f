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

/** The error as a StorageWriteError when it is a storage failure, else null (a bug, a constraint...). */
export function asStorageFailure(error: unknown): StorageWriteError | null {
  if (error instanceof StorageWriteError) return error;
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  if (typeof code !== 'string') return null;
  if (FULL.has(code)) return new StorageWriteError(true, 'the disk is full: nothing was stored', { cause: error });
  if (IO.test(code)) return new StorageWriteError(false, `storage failed (${code}): nothing was stored`, { cause: error });
  return null;
}
