import { isReplicaRefusal, isUpdateRejection } from '@parley/schema';
import type { DocReplica } from './DocReplica';
import type { SdkError } from './types';

/**
 * The decided recovery from a refused update. The server closed this
 * document because an update broke a rule (4403) or was too large (4413);
 * the provider will not reopen it and the refused bytes would be resent on
 * every resync. So: surface the error, drop the document's local replica, and
 * resync it from the server. Changes made meanwhile wait for the rebuilt
 * replica, and the user's own unacknowledged messages are posted again on it
 * (see salvage.ts). A document refused again within `minIntervalMs` waits that long first.
 *
 * A socket closed for its rate (4429 `rate-limited`) refused nothing: every
 * replica is intact and the session reconnects after a back-off (Session.ts).
 */
export const isRejection = (reason: string): boolean => isUpdateRejection(reason);

export function recoverFromRejections(replica: DocReplica, report: (error: SdkError) => void, minIntervalMs = 2_000): () => void {
  let lastReset = 0;
  return replica.on('closed', ({ code, reason }) => {
    if (!isReplicaRefusal(code) || !isRejection(reason)) return;
    replica.hold();
    report({ docName: replica.name, reason, code, recovery: 'replica-reset', at: Date.now() });
    const wait = Math.max(0, lastReset + minIntervalMs - Date.now());
    lastReset = Date.now() + wait;
    setTimeout(() => void replica.reset(), wait);
  });
}
