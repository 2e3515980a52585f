import { createHash } from 'node:crypto';
import type { SearchPosition } from '../../storage/Storage';

/**
 * A search page's `nextCursor`: the last hit's rank, row and window, and a digest of
 * the query it belongs to, base64url. A cursor handed to another query, or
 * one that does not decode, is refused (400) rather than silently starting
 * somewhere else.
 */
const queryDigest = (match: string, conversationId: string | undefined): string =>
  createHash('sha256').update(`${match}\n${conversationId ?? ''}`).digest('base64url').slice(0, 12);

const isRow = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;

export function searchCursor(position: SearchPosition, match: string, conversationId: string | undefined): string {
  return Buffer.from(JSON.stringify([position.rank, position.rowid, position.ceiling, queryDigest(match, conversationId)])).toString('base64url');
}

export function parseSearchCursor(cursor: string, match: string, conversationId: string | undefined): SearchPosition | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  if (!Array.isArray(parsed) || parsed.length !== 4) return null;
  const [rank, rowid, ceiling, digest] = parsed as unknown[];
  if (typeof rank !== 'number' || !Number.isFinite(rank) || !isRow(rowid) || !isRow(ceiling)) return null;
  if (digest !== queryDigest(match, conversationId)) return null;
  return { rank, rowid, ceiling };
}
