/** y-protocols sync message types that carry an update (step 1 carries a state vector). */
const SYNC_STEP_1 = 0;
const SYNC_STEP_2 = 1;
const SYNC_UPDATE = 2;

export const carriesUpdate = (type: number): boolean => type === SYNC_STEP_2 || type === SYNC_UPDATE;

/** No structs and no deletions (two zero varints): a sync step with nothing new, as on every reconnect. */
export const isEmptyUpdate = (update: Uint8Array): boolean => update.byteLength === 2 && update[0] === 0 && update[1] === 0;

export const isSyncStep1 = (type: number): boolean => type === SYNC_STEP_1;

/** A live update (not a sync step 2, which answers the server's own state vector). */
export const isLiveUpdate = (type: number): boolean => type === SYNC_UPDATE;

/**
 * Turns an update that has been applied already into an empty one, in place.
 * Hocuspocus' `beforeSync` payload is a view of the incoming frame, and once
 * the hook returns Hocuspocus decodes and applies those same bytes: a second
 * apply that changes nothing but costs a full decode and a transaction (6.6%
 * of a message's server CPU in the profile, docs/PERFORMANCE.md). Only the first two
 * bytes change, to "no structs, no deletions"; the length prefix before them
 * stays, and Yjs reads no further. Never call it on bytes not applied yet.
 */
export function spendApplied(update: Uint8Array): void {
  if (update.byteLength < 2) return;
  update[0] = 0;
  update[1] = 0;
}
