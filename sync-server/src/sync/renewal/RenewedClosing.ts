import { CloseCode, DocumentRenewal } from '@parley/schema';

/**
 * Thrown from a Hocuspocus hook, closes that document's connection with
 * `document-renewed` (4410): the replica is of an earlier epoch, or the
 * document is being renewed right now; nothing of what it sent was stored.
 */
export type RenewedClosing = Error & { code: number; reason: string };

export function renewedClosing(detail = 'the live document was renewed: open it again with a fresh replica'): RenewedClosing {
  return Object.assign(new Error(detail), { code: CloseCode.documentRenewed, reason: DocumentRenewal.reason });
}

export const isRenewedClosing = (error: unknown): error is RenewedClosing =>
  error instanceof Error && (error as Partial<RenewedClosing>).reason === DocumentRenewal.reason;
