import { CloseCode, ServerFailure } from '@parley/schema';
import { DocumentReplacedError, StorageWriteError, asStorageFailure } from '../storage/StorageWriteError';
import { renewedClosing } from './renewal/RenewedClosing';

/**
 * A storage failure thrown from a Hocuspocus hook: Hocuspocus closes that
 * document's connection (or refuses to open it) with this code and reason,
 * unacknowledged, and the client resends later. Still a StorageWriteError, so
 * a server write that meets it answers 507/503 like the failure itself.
 */
export type StorageClosing = StorageWriteError & { code: number; reason: ServerFailure };

export function storageClosing(cause?: unknown): StorageClosing {
  const failure = asStorageFailure(cause) ?? new StorageWriteError(false, 'the document is being reloaded after a failed write: nothing was stored');
  return Object.assign(failure, { code: CloseCode.storageUnavailable, reason: ServerFailure.storageUnavailable });
}

/**
 * Rethrows a storage failure as a StorageClosing; a write refused because
 * another server renewed the document as `document-renewed` (the client opens
 * the new epoch); anything else as it is.
 */
export function closeOnStorageFailure(error: unknown): never {
  if (error instanceof DocumentReplacedError) throw renewedClosing();
  throw asStorageFailure(error) ? storageClosing(error) : error;
}
