import * as Y from 'yjs';
import { announceOutsideChange, buildMessage, conversationParts, messageToJSON, type Message } from '@parley/schema';
import type { Logger } from '../../logger';
import type { Metrics } from '../../metrics';
import type { IndexedMessage, MessageIndex } from '../../storage/Storage';
import { indexable } from '../../domain/history/indexChange';
import type { ServerWriter } from '../ServerWriter';
import { copyValue } from '../renewal/copyValue';
import { isRenewedClosing } from '../renewal/RenewedClosing';
import { SERVER_WRITER } from './ClientBindings';
import { validateUpdate } from './UpdateValidator';
import type { Writer } from './Writer';

/**
 * A user's change to a message that has left the live document (issue 9,
 * item 2), judged by the same rule book as one inside it: the message is
 * rebuilt from its index row in a scratch document beside the live
 * document's `meta` and `members` (as the server's items), the change is
 * made there under a client id of the caller's, and the update it produces
 * goes through `validateUpdate` with the caller as writer. Only an accepted
 * change is written, to the message index (its only home now), in one
 * transaction with the chat notifier's mark, then announced in the live
 * document's `outside` map so open replicas learn of it. Changes of one
 * conversation take turns, so two of them never read the same row and lose
 * one another.
 */
export class ArchivedWrites {
  private readonly turns = new Map<string, Promise<unknown>>();

  constructor(private readonly deps: { writer: ServerWriter; messages: MessageIndex; metrics: Metrics; mark(conversationId: string): Promise<void>; logger?: Logger }) {}

  as(documentName: string, writer: Writer, message: IndexedMessage, mutate: (map: Y.Map<unknown>) => void): Promise<Message> {
    const previous = this.turns.get(message.conversationId) ?? Promise.resolve();
    const turn = previous.catch(() => {}).then(() => this.change(documentName, writer, message, mutate));
    this.turns.set(message.conversationId, turn);
    void turn.catch(() => {}).then(() => {
      if (this.turns.get(message.conversationId) === turn) this.turns.delete(message.conversationId);
    });
    return turn;
  }

  private async change(documentName: string, writer: Writer, stale: IndexedMessage, mutate: (map: Y.Map<unknown>) => void): Promise<Message> {
    // Read again in its turn: an earlier change of this conversation may have changed the row.
    const current = (await this.deps.messages.get(stale.conversationId, stale.id)) ?? stale;
    const base = await this.deps.writer.read(documentName, (live) => scratchOf(live, current));
    const trial = new Y.Doc();
    Y.applyUpdate(trial, Y.encodeStateAsUpdate(base));
    const updates: Uint8Array[] = [];
    trial.on('update', (update: Uint8Array) => updates.push(update));
    const map = conversationParts(trial).messages.get(0);
    trial.transact(() => mutate(map));
    if (updates.length === 0) return messageToJSON(map);
    const update = updates.length === 1 ? updates[0]! : Y.mergeUpdates(updates);
    const serverId = base.clientID;
    const verdict = validateUpdate(base, documentName, update, writer, (client) => (client === serverId ? SERVER_WRITER : null));
    if ('reason' in verdict) {
      this.deps.metrics.updatesRejected.inc({ reason: verdict.reason });
      throw verdict;
    }
    const change = { conversationId: current.conversationId, messages: [{ ...indexable(map), ...(current.mentions && { mentions: current.mentions }) }], reads: [] };
    // Queued in one stretch: one group commit holds the row and the mark.
    await Promise.all([this.deps.mark(current.conversationId), this.deps.messages.writeArchived(change)]);
    this.deps.metrics.updatesApplied.inc();
    await this.announce(documentName, current.id);
    return messageToJSON(map);
  }

  /**
   * Tells the open replicas (the live document's `outside` map): stored
   * after the index row, so a reader who fetches the message on the notice
   * gets the change. A renewal under way is met by writing into the new
   * epoch. A notice that cannot be written is logged, not an error of the
   * change: the change is stored, and history and search show it.
   */
  private async announce(documentName: string, messageId: string): Promise<void> {
    const write = () => this.deps.writer.write(documentName, (live) => announceOutsideChange(live, messageId, Date.now()));
    await write()
      .catch((error: unknown) => (isRenewedClosing(error) ? write() : Promise.reject(error)))
      .catch((error: unknown) => this.deps.logger?.warn({ err: error, documentName, messageId }, 'a change outside the live window was stored but not announced'));
  }
}

/** The live document's meta and members, and the message as its index row holds it, all written by the scratch's own (server) client id. */
function scratchOf(live: Y.Doc, message: IndexedMessage): Y.Doc {
  const doc = new Y.Doc();
  const from = conversationParts(live);
  const to = conversationParts(doc);
  doc.transact(() => {
    for (const [key, value] of from.meta.entries()) to.meta.set(key, copyValue(value));
    for (const [key, value] of from.members.entries()) to.members.set(key, copyValue(value) as never);
    const map = buildMessage({ id: message.id, author: message.author, kind: message.kind, text: message.text, createdAt: message.createdAt, ...(message.replyTo !== undefined && { replyTo: message.replyTo }), ...(message.attachments !== undefined && { attachments: message.attachments }) });
    to.messages.push([map]);
    if (message.editedAt !== undefined) map.set('editedAt', message.editedAt);
    if (message.deletedAt !== undefined) map.set('deletedAt', message.deletedAt);
    const reactions = map.get('reactions') as Y.Map<number>;
    for (const [key, at] of Object.entries(message.reactions)) reactions.set(key, at);
  });
  return doc;
}
