import type { SearchPosition, SearchRequest } from './Storage';

/** A match the full-text index found: its row (newer is higher) and its rank (lower is better). */
export interface RankedRow {
  rowid: number;
  rank: number;
}

/**
 * The newest `size` matches with a row below `ceiling` (null: no bound), in
 * the caller's conversations, not deleted; any order.
 */
export type WindowQuery = (ceiling: number | null, size: number) => Promise<RankedRow[]>;

const byRank = (a: RankedRow, b: RankedRow): number => a.rank - b.rank || a.rowid - b.rowid;
const isAfter = (row: RankedRow, after: SearchPosition | undefined): boolean =>
  !after || row.rank > after.rank || (row.rank === after.rank && row.rowid > after.rowid);

/**
 * Search order, the same on every backend: matches are taken newest first in
 * windows of `request.window`, and ranked best first within a window. Ranking
 * every match would cost what the whole history holds (2,000 rows for a
 * common word over 1M messages, 32,000 for a short prefix, each read for the
 * membership filter); a window costs its size. The first window's ceiling is
 * fixed by the first page (one above its newest row), so the next pages stay
 * in the same windows while messages arrive. Returns up to `request.limit`
 * rows, each with its position for a cursor.
 */
export async function searchWindows(request: SearchRequest, query: WindowQuery): Promise<Array<RankedRow & { position: SearchPosition }>> {
  const out: Array<RankedRow & { position: SearchPosition }> = [];
  let ceiling: number | null = request.after?.ceiling ?? null;
  let after = request.after;
  for (;;) {
    const rows = await query(ceiling, request.window);
    if (rows.length === 0) return out;
    let floor = rows[0]!.rowid;
    let top = rows[0]!.rowid;
    for (const row of rows) {
      floor = Math.min(floor, row.rowid);
      top = Math.max(top, row.rowid);
    }
    const windowCeiling = ceiling ?? top + 1;
    for (const row of rows.filter((r) => isAfter(r, after)).sort(byRank)) {
      if (out.length === request.limit) return out;
      out.push({ ...row, position: { rank: row.rank, rowid: row.rowid, ceiling: windowCeiling } });
    }
    // A window short of its size was the last one.
    if (out.length === request.limit || rows.length < request.window) return out;
    ceiling = floor;
    after = undefined;
  }
}
