import * as Y from 'yjs';
import { conversationParts, findMessage, messageToJSON } from '@parley/schema';
import { covers, type StateVector } from './AckVector';
import type { ReactionRemoval } from './ReactionRemovals';

/**
 * What a replica holds that the server never acknowledged, as operations
 * (issue 9, item 2): after a renewal the old replica cannot be synced (its
 * items belong to a retired epoch), so these are made again on the new one,
 * by id, through the live document or the REST API.
 */
export type PendingOp =
  | { kind: 'message'; id: string; text: string; msgKind: 'text' | 'image' | 'file'; createdAt: number; replyTo?: string; attachments?: unknown[] }
  | { kind: 'edit'; id: string; text: string }
  | { kind: 'delete'; id: string }
  | { kind: 'react'; id: string; emoji: string }
  /** An own reaction taken back; `at` is the value the removed key held (ReactionRemovals). */
  | { kind: 'unreact'; id: string; emoji: string; at: number }
  | { kind: 'read'; id: string; at: number };

/** The item that holds a map key's current value (null when there is none). */
function keyItem(map: Y.Map<unknown>, key: string): Y.Item | null {
  return (map as unknown as { _map: Map<string, Y.Item> })._map.get(key) ?? null;
}

const unacked = (ack: StateVector, item: Y.Item | null): boolean => item !== null && !item.deleted && !covers(ack, item.id);

/**
 * The user's own unacknowledged changes in a conversation replica: new
 * messages (whole, with their latest text), edits and soft deletions of
 * their messages, their reactions, their read receipt. Acknowledgement is
 * per Yjs item (the acknowledged state vector), so an edit made offline to a
 * message the server holds is told apart from the message itself. A
 * reaction taken back leaves no item to find: those come from
 * ReactionRemovals (`removals`), for keys the replica still lacks.
 */
export function unacknowledgedOps(doc: Y.Doc, ack: StateVector, me: string, removals: readonly ReactionRemoval[] = []): PendingOp[] {
  const ops: PendingOp[] = [];
  for (const removal of removals) {
    const reactions = findMessage(doc, removal.messageId)?.map.get('reactions');
    // Made again since (then it is pending, or acknowledged, as an addition): nothing to take back.
    if (reactions instanceof Y.Map && reactions.has(`${me}:${removal.emoji}`)) continue;
    ops.push({ kind: 'unreact', id: removal.messageId, emoji: removal.emoji, at: removal.at });
  }
  const parts = conversationParts(doc);
  for (const map of parts.messages.toArray()) {
    if (!(map instanceof Y.Map) || !map._item) continue;
    const message = messageToJSON(map);
    const mine = message.author === me;
    if (!covers(ack, map._item.id)) {
      if (!mine || message.deletedAt !== undefined || message.kind === 'system') continue;
      ops.push({
        kind: 'message',
        id: message.id,
        text: message.text,
        msgKind: message.kind,
        createdAt: message.createdAt,
        ...(message.replyTo !== undefined && { replyTo: message.replyTo }),
        ...(message.attachments !== undefined && { attachments: message.attachments }),
      });
    } else if (mine) {
      if (message.deletedAt !== undefined && unacked(ack, keyItem(map, 'deletedAt'))) ops.push({ kind: 'delete', id: message.id });
      else if (message.deletedAt === undefined && unacked(ack, keyItem(map, 'text'))) ops.push({ kind: 'edit', id: message.id, text: message.text });
    }
    const reactions = map.get('reactions');
    if (!(reactions instanceof Y.Map)) continue;
    for (const key of reactions.keys()) {
      if (key.startsWith(`${me}:`) && unacked(ack, keyItem(reactions, key))) ops.push({ kind: 'react', id: message.id, emoji: key.slice(me.length + 1) });
    }
  }
  const receipt = parts.reads.get(me);
  if (receipt && unacked(ack, keyItem(parts.reads as Y.Map<unknown>, me))) ops.push({ kind: 'read', id: receipt.messageId, at: receipt.at });
  return ops;
}
