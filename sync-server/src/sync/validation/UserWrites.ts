import { createHash } from 'node:crypto';
import * as Y from 'yjs';
import { DEFAULTS, UpdateRejection } from '@parley/schema';
import type { Metrics } from '../../metrics';
import type { ServerWriter } from '../ServerWriter';
import type { ClientBindings } from './ClientBindings';
import { refusal } from './Refusal';
import { validateUpdate } from './UpdateValidator';
import type { Writer } from './Writer';
import type { UploadLookup } from './attachmentRefs';

/** Attempts at finding a REST client id nobody else owns (a clash with another user's is a 1 in 2^32 event). */
const CLIENT_ID_TRIES = 8;

/**
 * A user's change made over HTTP, judged exactly like their WebSocket update:
 * the change is made on a copy of the server's replica under a Yjs
 * client id of the user's, the update it produces goes through the same
 * `validateUpdate` as a socket's, with the user as writer, and only an
 * accepted update is applied to the live document, through the ServerWriter,
 * so it takes the one write pipeline (stored with its index rows, then
 * broadcast). Build, judge and apply happen in one synchronous stretch, so no
 * other change slips in between; a refusal (thrown as a Refusal) changes
 * nothing.
 *
 * The copy is kept (see shadowOf): a change costs O(change) once it exists,
 * and making it costs O(live document), which is bounded (issue 9, item 2).
 */
export class UserWrites {
  private readonly shadows = new WeakMap<Y.Doc, { doc: Y.Doc; stop(): void }>();

  constructor(
    private readonly deps: {
      writer: ServerWriter;
      bindings: ClientBindings;
      metrics: Metrics;
      upload?: UploadLookup;
      /**
       * This server's id when others share the store (issue 15): each server
       * writes a user's REST changes under its own client id, since two
       * servers continuing one client id's clock at once would make two
       * different items with one id, and Yjs keeps only one of them.
       */
      node?: string;
    },
  ) {}

  async as<T>(documentName: string, writer: Writer, change: (doc: Y.Doc) => T): Promise<T> {
    // Open (and so the bindings loaded) before a client id is chosen.
    await this.deps.writer.read(documentName, () => undefined);
    const clientId = await this.clientIdOf(documentName, writer.userId);
    return this.deps.writer.write(documentName, (live) => {
      const scratch = this.shadowOf(live);
      scratch.clientID = clientId;
      const updates: Uint8Array[] = [];
      const collect = (update: Uint8Array) => updates.push(update);
      scratch.on('update', collect);
      let result: T;
      try {
        result = change(scratch);
      } catch (error) {
        // Thrown half-way: whatever it changed is in the shadow only.
        if (updates.length > 0) this.forget(live);
        throw error;
      } finally {
        scratch.off('update', collect);
      }
      if (updates.length === 0) return result;
      const update = updates.length === 1 ? updates[0]! : Y.mergeUpdates(updates);
      const verdict = validateUpdate(live, documentName, update, writer, (client) => this.deps.bindings.ownerOf(documentName, client), this.deps.upload);
      if ('reason' in verdict) {
        // The shadow holds the refused change: it no longer mirrors the live document.
        this.forget(live);
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
   * A copy of the live document that follows it while it is open, so a REST
   * change costs O(change), not a copy of the document each time: made on
   * the first REST change (O(live document), which is bounded), and dropped
   * whenever it may differ from the live document (a refused or failed change;
   * a live document that failed to store is replaced, and so its shadow).
   */
  private shadowOf(live: Y.Doc): Y.Doc {
    const held = this.shadows.get(live);
    if (held) return held.doc;
    const doc = new Y.Doc({ gc: live.gc });
    Y.applyUpdate(doc, Y.encodeStateAsUpdate(live));
    const follow = (update: Uint8Array) => Y.applyUpdate(doc, update);
    live.on('update', follow);
    this.shadows.set(live, { doc, stop: () => live.off('update', follow) });
    return doc;
  }

  private forget(live: Y.Doc): void {
    this.shadows.get(live)?.stop();
    this.shadows.delete(live);
  }

  /**
   * The user's REST client id in this document: derived from their id (and,
   * on a shared store, this server's), so one binding serves all their REST calls (a new id per call would use up
   * `clientIdsMaxPerUserPerDocument`), and bound before it is used.
   */
  private async clientIdOf(documentName: string, userId: string): Promise<number> {
    const { bindings } = this.deps;
    for (let attempt = 0; attempt < CLIENT_ID_TRIES; attempt++) {
      const seed = this.deps.node === undefined ? `rest\n${userId}\n${attempt}` : `rest\n${this.deps.node}\n${userId}\n${attempt}`;
      const clientId = createHash('sha256').update(seed).digest().readUInt32BE(0);
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
