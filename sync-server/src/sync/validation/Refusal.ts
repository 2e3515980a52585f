import { UpdateRejection, rejectionCloseCode } from '@parley/schema';

/**
 * Why an update was refused. Thrown from beforeSync, Hocuspocus closes that
 * document's connection with `code` and `reason`; it has no `message` so
 * Hocuspocus does not log it as a crash.
 */
export interface Refusal {
  code: number;
  reason: UpdateRejection;
  detail: string;
  /**
   * Set on a `missing-dependency` that is only the sender's own earlier
   * changes, which the server lacks (see ServerFailure.resyncNeeded): the
   * document is closed for a resync then, not refused.
   */
  senderAhead?: true;
}

export function refusal(reason: UpdateRejection, detail: string): Refusal {
  return { code: rejectionCloseCode(reason), reason, detail };
}

export function isRefusal(value: unknown): value is Refusal {
  return typeof value === 'object' && value !== null && 'reason' in value && 'code' in value && 'detail' in value;
}
