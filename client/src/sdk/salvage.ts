import type * as Y from 'yjs';
import { z } from 'zod';
import { Id, SendMessageBody, appendMessage, conversationParts, messageToJSON, type NewMessage } from '@parley/schema';
import { covers, itemId, type StateVector } from './AckVector';

/** A local change to make again on a rebuilt replica. */
export type Change = (doc: Y.Doc) => unknown;

/**
 * A message rebuilt from these fields breaks no rule of the server's, whatever
 * the refused change was: the fields a client sends (the schema's own send
 * body, with its text and attachment limits), plus what the SDK adds.
 */
const Salvageable = SendMessageBody.extend({
  id: Id,
  kind: z.enum(['text', 'image', 'file']),
  createdAt: z.number().int().positive(),
});

/** How often one message is posted again before it is given up (a safety net should client and server rules ever differ). */
const MAX_TRIES = 2;

/**
 * The user's own new messages the server never acknowledged, as changes that
 * post them again (same id, same time) on a rebuilt replica. A refused update
 * is refused whole, so honest messages synced together with the bad change
 * would otherwise vanish with the dropped replica. Each is rebuilt from
 * validated fields, so it cannot carry the bad change along. Edits and
 * reactions are not carried over: the user sees them undone.
 */
export function salvageOwnMessages(doc: Y.Doc, ack: StateVector, me: string, tries: Map<string, number>): Change[] {
  const changes: Change[] = [];
  // Ids the rebuilt replica holds once it has synced, read once for all the changes below.
  let present: Set<string> | null = null;
  const onServer = (rebuilt: Y.Doc, id: string) => {
    present ??= new Set(conversationParts(rebuilt).messages.toArray().map((m) => m.get('id') as string));
    return present.has(id);
  };
  for (const map of conversationParts(doc).messages.toArray()) {
    const item = itemId(map);
    // Unacknowledged, or written by this replica since it was last built: the acknowledgement
    // can run ahead of the server around a refusal, so what the server holds is checked on the
    // rebuilt replica instead of trusted here.
    if (!item || (covers(ack, item) && item.client !== doc.clientID)) continue;
    const message = messageToJSON(map);
    if (message.author !== me || message.deletedAt !== undefined) continue;
    const { id, text, kind, createdAt, replyTo, attachments } = message;
    const parsed = Salvageable.safeParse({ id, text, kind, createdAt, replyTo, attachments });
    if (!parsed.success) continue;
    const tried = tries.get(message.id) ?? 0;
    if (tried >= MAX_TRIES) continue;
    tries.set(message.id, tried + 1);
    const again: NewMessage = { ...parsed.data, author: me };
    changes.push((rebuilt) => {
      if (!onServer(rebuilt, again.id)) appendMessage(rebuilt, again);
    });
  }
  return changes;
}
