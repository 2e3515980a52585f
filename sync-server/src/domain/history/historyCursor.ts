/**
 * A history page's `nextCursor`: `h:<seq>`, the server's order of acceptance
 * of the oldest message on the page. New messages take higher seqs, so a
 * cursor keeps pointing at the same place while the conversation grows. The
 * colon never occurs in an id, so `before` tells a cursor from a message id.
 */
const PREFIX = 'h:';

export type HistoryBefore = { seq: number } | { messageId: string };

export const historyCursor = (seq: number): string => `${PREFIX}${seq}`;

/** What `before` names, or null when it is neither a cursor nor an id. */
export function parseHistoryBefore(before: string, isId: (value: string) => boolean): HistoryBefore | null {
  if (before.startsWith(PREFIX)) {
    const digits = before.slice(PREFIX.length);
    if (!/^[1-9]\d{0,14}$/.test(digits)) return null;
    return { seq: Number(digits) };
  }
  return isId(before) ? { messageId: before } : null;
}
