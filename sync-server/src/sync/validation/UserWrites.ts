import { createHash } from 'node:crypto';
import * as Y from 'yjs';
import { DEFAULTS, UpdateRejection } from '@parley/schema';
import type { Metrics } from '../../metrics';
import type { ServerWriter } from '../ServerWriter';
import type { ClientBindings } from './ClientBindings';
import { refusal } from './Refusal';
import { validateUpdate } from './UpdateValidator';
import type { Writer } from './Writer';

/** Attempts at finding a REST client id nobody else owns (a clash with another user's is a 1 in 2^32 event). */
const CLIENT_ID_TRIES = 8;

/**
 * A user's change made over HTTP, judged exactly like their WebSocket update:
 * the change is made on a scratch copy of the server's replica under a Yjs
 * client id of the user's, the update it produces goes through the same
 * `validateUpdate` as a socket's, with the user as writer, and only an
 * accepted update is applied to the live document, through the ServerWriter,
 * so it takes the one write pipeline (stored with its index rows, then
 * broadcast). Build, judge and apply happen in one synchronous stretch, so no
 * other change slips in between; a refusal (thrown as a Refusal) changes
 * nothing.
 *
 * The copy costs O(live document); the live document is bounded (issue 9,
 * item 2), so that is O(window), not O(history).
 */
export class UserWrites {
  constructor(private readonly deps: { writer: ServerWriter; bindings: ClientBindings; metrics: Metrics }) {}

  async as<T>(documentName: string, writer: Writer, change: (doc: Y.Doc) => T): Promise<T> {
    // Open (and so the bindings loaded) before a client id is chosen.
    await this.deps.writer.read(documentName, () => undefined);
    const clientId = await this.clientIdOf(documentName, writer.userId);
    return this.deps.writer.write(documentName, (live) => {
      const scratch = new Y.Doc({ gc: live.gc });
      Y.applyUpdate(scratch, Y.encodeStateAsUpdate(live));
      // Set after loading: Yjs gives a loaded doc a new id when the update already uses its own.
      scratch.clientID = clientId;
      const updates: Uint8Array[] = [];
      scratch.on('update', (update: Uint8Array) => updates.push(update));
      const result = change(scratch);
      if (updates.length === 0) return result;
      const update = updates.length === 1 ? updates[0]! : Y.mergeUpdates(updates);
      const verdict = validateUpdate(live, documentName, update, writer, (client) => this.deps.bindings.ownerOf(documentName, client));
      if ('reason' in verdict) {
        this.deps.metrics.updatesRejected.inc({ reason: verdict.reason });
        throw verdict;
      }
      if (!verdict.empty) {
        Y.applyUpdate(live, update);
        this.deps.metrics.updatesApplied.inc();
      }
      return result;
    });
  }

  /**
   * The user's REST client id in this document: derived from their id, so one
   * binding serves all their REST calls (a new id per call would use up
   * `clientIdsMaxPerUserPerDocument`), and bound before it is used.
   */
  private async clientIdOf(documentName: string, userId: string): Promise<number> {
    const { bindings } = this.deps;
    for (let attempt = 0; attempt < CLIENT_ID_TRIES; attempt++) {
      const clientId = createHash('sha256').update(`rest\n${userId}\n${attempt}`).digest().readUInt32BE(0);
      const owner = bindings.ownerOf(documentName, clientId);
      if (owner === userId) return clientId;
      if (owner !== null) continue;
      if (!bindings.hasRoom(documentName, userId, 1)) {
        throw refusal(UpdateRejection.tooManyEntries, `at most ${DEFAULTS.clientIdsMaxPerUserPerDocument} Yjs client ids per user in a document`);
      }
      if (await bindings.bind(documentName, [clientId], userId)) return clientId;
    }
    throw refusal(UpdateRejection.foreignClient, 'no free client id for this user');
  }
}
