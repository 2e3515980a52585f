import { CloseCode, ServerFailure } from '@parley/schema';

/**
 * Thrown from beforeSync, closes that document's connection with
 * `resync-needed` (4409): the update builds on the sender's own changes the
 * server never stored, nothing of it was applied, and the replica's next
 * sync brings both (see ValidationExtension.askForResync). Shaped like a
 * Refusal (no `message`), so Hocuspocus' report of it is recognised.
 */
export interface ResyncClosing {
  code: number;
  reason: typeof ServerFailure.resyncNeeded;
  detail: string;
}

export function resyncClosing(detail: string): ResyncClosing {
  return { code: CloseCode.resyncNeeded, reason: ServerFailure.resyncNeeded, detail };
}

export const isResyncClosing = (value: unknown): value is ResyncClosing =>
  typeof value === 'object' && value !== null && (value as Partial<ResyncClosing>).reason === ServerFailure.resyncNeeded;
