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
