import * as Y from 'yjs';
import {
  appendMessage,
  editMessage,
  findMessage,
  isDocumentRenewal,
  reactionKey,
  readReceipts,
  setRead,
  setReaction,
  type Attachment,
} from '@parley/schema';
import { ApiError, type ApiClient } from './ApiClient';
import type { ReactionRemovals } from './ReactionRemovals';
import type { Reposts } from './Reposts';
import type { DocReplica } from './DocReplica';
import { applyToMessage, type OutsideWindowChange } from './OutsideWindowOutbox';
import type { Change } from './salvage';
import type { SdkError } from './types';
import { unacknowledgedOps, type PendingOp } from './unacknowledged';

export interface RenewalDeps {
  conversationId: string;
  me: string;
  api: ApiClient;
  /** Own reaction removals the server has not acknowledged (a deletion has no clock for the ack vector to show). */
  removals: ReactionRemovals;
  /** Queues a change of a message outside the window (OutsideWindowOutbox, sent over REST). */
  outside(messageId: string, change: OutsideWindowChange): void;
  /** Own messages being posted again, with the changes made to them meanwhile (the session routes those here). */
  reposts: Reposts;
  report(error: SdkError): void;
}

/**
 * Waits between lookups of a message the server could not answer for (no
 * network, a 5xx, a 429: all pass), doubling up to LOOKUP_RETRY_MAX_MS.
 * There is no last attempt: giving up would lose the user's message (the
 * renewal fuzz lost one when a burst of lookups met the rate limit).
 */
const LOOKUP_RETRY_MS = 1_000;
const LOOKUP_RETRY_MAX_MS = 30_000;

/**
 * The recovery from a renewal of the live document (issue 9, item 2): the
 * server closed `conversation:<id>` with `document-renewed` (4410), at the
 * renewal or because this replica is of an earlier epoch. Its items belong to
 * retired client ids and must not be synced: so the operations it holds that
 * the server never acknowledged are read from it (unacknowledgedOps), the
 * replica is dropped (memory and IndexedDB, which keeps it bounded) and
 * rebuilt from the server's window, and each operation is made again exactly
 * once, by id: in the live document when its message is in the window, else
 * through the REST API. A message is posted again only when the server holds
 * no message of that id (the window, then `GET .../messages/:id`), so a
 * message the server took in before the renewal never shows twice.
 */
export function recoverFromRenewals(replica: DocReplica, deps: RenewalDeps): () => void {
  return replica.on('closed', (event) => {
    if (!isDocumentRenewal(event)) return;
    replica.hold();
    const ops = unacknowledgedOps(replica.doc, replica.ack, deps.me, deps.removals.list());
    deps.report({ docName: replica.name, reason: event.reason, code: event.code, recovery: 'replica-reset', at: Date.now() });
    void replica.reset(true, () => ops.map((op) => replay(op, replica, deps)));
  });
}

function replay(op: PendingOp, replica: DocReplica, deps: RenewalDeps): Change {
  const { me } = deps;
  return (doc) => {
    const inWindow = findMessage(doc, op.id) !== null;
    switch (op.kind) {
      case 'message': {
        // The server may hold it already (taken in before the renewal, its acknowledgement lost) with an
        // older text: the local text (edited since) is made again as an edit.
        const held = findMessage(doc, op.id);
        if (!held) {
          // Registered now, before any later op of this replay (a reaction to it) or the user changes it.
          deps.reposts.begin(op.id);
          void postIfMissing(op, replica, deps);
        }
        else if (held.map.get('text') !== op.text) editMessage(doc, op.id, op.text);
        return;
      }
      case 'edit':
      case 'delete':
      case 'react': {
        const change: OutsideWindowChange =
          op.kind === 'edit' ? { op: 'edit', text: op.text } : op.kind === 'delete' ? { op: 'delete' } : { op: 'reaction', emoji: op.emoji, on: true };
        if (inWindow) applyToMessage(doc, me, op.id, change);
        else deps.outside(op.id, change);
        return;
      }
      case 'unreact': {
        if (!inWindow) {
          deps.outside(op.id, { op: 'reaction', emoji: op.emoji, on: false });
          return;
        }
        // Only the reaction that was taken back: one made again since (another device: a new time) stays.
        const reactions = findMessage(doc, op.id)?.map.get('reactions');
        if (reactions instanceof Y.Map && reactions.get(reactionKey(me, op.emoji)) === op.at) setReaction(doc, op.id, me, op.emoji, false);
        return;
      }
      case 'read': {
        // A receipt only moves forward: one the server holds from later (another device) stays.
        const current = readReceipts(doc)[me];
        if (!current || (current.messageId !== op.id && current.at < op.at)) setRead(doc, me, op.id, op.at);
        return;
      }
    }
  };
}

/** What the server answered about a message id: it holds it (with this text), it does not, it cannot say now, or it refuses. */
type Lookup = { kind: 'held'; text: string } | { kind: 'missing' } | { kind: 'retry' } | { kind: 'refused'; error: ApiError };

async function lookUp(path: string, api: ApiClient): Promise<Lookup> {
  try {
    const { message } = await api.request<{ message: { text: string } }>('GET', path);
    return { kind: 'held', text: message.text };
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return { kind: 'missing' };
    // Lost access (403) or another refusal: posting it again would be refused the same way.
    if (error instanceof ApiError && error.status < 500 && error.status !== 429) return { kind: 'refused', error };
    return { kind: 'retry' };
  }
}

/**
 * Posts a message again after a renewal, once the server says it holds no
 * message of that id (the window did not have it; `GET .../messages/:id`
 * answers 404). A lookup the server could not answer is tried again, for as
 * long as the replica is open.
 */
async function postIfMissing(op: Extract<PendingOp, { kind: 'message' }>, replica: DocReplica, deps: RenewalDeps): Promise<void> {
  const path = `/conversations/${encodeURIComponent(deps.conversationId)}/messages/${encodeURIComponent(op.id)}`;
  let wait = LOOKUP_RETRY_MS;
  for (;;) {
    if (replica.isDestroyed) return void deps.reposts.end(op.id);
    const answer = await lookUp(path, deps.api);
    if (answer.kind === 'refused') {
      deps.reposts.end(op.id);
      deps.report({ docName: replica.name, reason: answer.error.code, recovery: 'none', at: Date.now() });
      return;
    }
    if (answer.kind === 'held') {
      // The server holds it (outside the window): nothing to post, maybe an edit to make again, and the changes made meanwhile.
      if (answer.text !== op.text) deps.outside(op.id, { op: 'edit', text: op.text });
      for (const change of deps.reposts.end(op.id)) deps.outside(op.id, change);
      return;
    }
    if (answer.kind === 'missing') break;
    await new Promise((resolve) => setTimeout(resolve, wait));
    wait = Math.min(wait * 2, LOOKUP_RETRY_MAX_MS);
  }
  replica.write((doc) => {
    if (!findMessage(doc, op.id)) {
      appendMessage(doc, {
        id: op.id,
        author: deps.me,
        text: op.text,
        kind: op.msgKind,
        createdAt: op.createdAt,
        ...(op.replyTo !== undefined && { replyTo: op.replyTo }),
        ...(op.attachments !== undefined && { attachments: op.attachments as Attachment[] }),
      });
    }
    for (const change of deps.reposts.end(op.id)) applyToMessage(doc, deps.me, op.id, change);
  });
}
