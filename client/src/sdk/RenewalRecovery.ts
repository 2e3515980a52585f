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
  softDeleteMessage,
  type Attachment,
} from '@parley/schema';
import { ApiError, type ApiClient } from './ApiClient';
import type { ReactionRemovals } from './ReactionRemovals';
import type { DocReplica } from './DocReplica';
import type { OutsideWindowChange } from './OutsideWindowOutbox';
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
  report(error: SdkError): void;
}

/** Attempts at finding out whether the server holds a message before posting it again. */
const LOOKUP_TRIES = 5;
const LOOKUP_RETRY_MS = 1_000;

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
        if (!held) void postIfMissing(op, replica, deps);
        else if (held.map.get('text') !== op.text) editMessage(doc, op.id, op.text);
        return;
      }
      case 'edit':
        if (inWindow) editMessage(doc, op.id, op.text);
        else deps.outside(op.id, { op: 'edit', text: op.text });
        return;
      case 'delete':
        if (inWindow) softDeleteMessage(doc, op.id);
        else deps.outside(op.id, { op: 'delete' });
        return;
      case 'react':
        if (inWindow) setReaction(doc, op.id, me, op.emoji, true);
        else deps.outside(op.id, { op: 'reaction', emoji: op.emoji, on: true });
        return;
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

async function postIfMissing(op: Extract<PendingOp, { kind: 'message' }>, replica: DocReplica, deps: RenewalDeps): Promise<void> {
  const path = `/conversations/${encodeURIComponent(deps.conversationId)}/messages/${encodeURIComponent(op.id)}`;
  for (let attempt = 0; attempt < LOOKUP_TRIES; attempt++) {
    try {
      const { message } = await deps.api.request<{ message: { text: string } }>('GET', path);
      // The server holds it (outside the window): nothing to post, maybe an edit to make again.
      if (message.text !== op.text) deps.outside(op.id, { op: 'edit', text: op.text });
      return;
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) break;
      await new Promise((resolve) => setTimeout(resolve, LOOKUP_RETRY_MS));
      if (attempt === LOOKUP_TRIES - 1) return;
    }
  }
  replica.write((doc) => {
    if (findMessage(doc, op.id)) return;
    appendMessage(doc, {
      id: op.id,
      author: deps.me,
      text: op.text,
      kind: op.msgKind,
      createdAt: op.createdAt,
      ...(op.replyTo !== undefined && { replyTo: op.replyTo }),
      ...(op.attachments !== undefined && { attachments: op.attachments as Attachment[] }),
    });
  });
}
