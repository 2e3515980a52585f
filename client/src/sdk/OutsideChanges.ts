import * as Y from 'yjs';
import { conversationParts } from '@parley/schema';
import type { DocReplica } from './DocReplica';

/**
 * Watches a conversation replica's `outside` map (issue 9): the server
 * announces there each change to a message outside the live window (an edit,
 * deletion or reaction made over REST, by anyone), message id -> time. Calls
 * `announced` for every entry that is new or newer, as it arrives from the
 * server; the session then fetches the message again if it shows it.
 * Rebinds when the replica is rebuilt (a renewal brings the newest entries
 * along, and they are announced again: a fetch too many, never one too few).
 */
export function watchOutsideChanges(replica: DocReplica, announced: (messageId: string) => void): () => void {
  let unbind = () => {};
  const bind = () => {
    unbind();
    const outside = conversationParts(replica.doc).outside;
    const observer = (event: Y.YMapEvent<number>, transaction: Y.Transaction) => {
      if (transaction.local) return;
      for (const [messageId, change] of event.changes.keys) if (change.action !== 'delete') announced(messageId);
    };
    outside.observe(observer);
    unbind = () => outside.unobserve(observer);
  };
  bind();
  const offReset = replica.on('reset', bind);
  return () => {
    unbind();
    offReset();
  };
}
