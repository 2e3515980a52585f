import type { Extension, afterLoadDocumentPayload, beforeHandleAwarenessPayload, beforeSyncPayload } from '@hocuspocus/server';
import * as Y from 'yjs';
import { DEFAULTS, ServerFailure, UpdateRejection, isAdmin, parseDocName } from '@parley/schema';
import type { Logger } from '../../logger';
import type { Metrics } from '../../metrics';
import type { ConnectionContext } from '../context';
import { ClientBindings, SERVER_WRITER } from './ClientBindings';
import { refusal, type Refusal } from './Refusal';
import { validateUpdate } from './UpdateValidator';
import type { UploadLookup } from './attachmentRefs';
import { carriesUpdate, isLiveUpdate, isSyncStep1 } from '../syncMessages';
import { resyncClosing } from './ResyncClosing';
import { refuseArchivedIds, type IdArchive } from './MessageIds';
import { renewedClosing } from '../renewal/RenewedClosing';
import { LogBudget } from '../../logging/LogBudget';
import { closeOnStorageFailure } from '../StorageClosing';
import type { Writer } from './Writer';

/**
 * Never trust a client's update: judge it before it is stored, applied or
 * broadcast (Hocuspocus awaits beforeSync before all three). A refused update
 * closes that document's connection with the reason; the sender's other
 * documents on the socket carry on.
 */
export class ValidationExtension implements Extension {
  /** Above persistence: nothing is stored before it passes. */
  priority = 500;
  private readonly logBudget = new LogBudget(DEFAULTS.refusalLogsPerWindow, DEFAULTS.refusalLogWindowMs);

  constructor(
    private readonly deps: {
      bindings: ClientBindings;
      metrics: Metrics;
      logger: Logger;
      archive: IdArchive;
      upload?: UploadLookup;
      /**
       * Several servers (issue 15): merges the stored document into this one.
       * A client may have seen, through another server, updates this one has
       * not applied yet; every server broadcasts only after the commit, so the
       * store has them. False when the document was renewed meanwhile.
       */
      catchUp?: (document: beforeSyncPayload['document']) => Promise<boolean>;
    },
  ) {}

  async afterLoadDocument({ document, documentName }: afterLoadDocumentPayload): Promise<void> {
    const { bindings } = this.deps;
    await bindings.load(documentName, document).catch(closeOnStorageFailure);
    // Unloaded with this very document (a renewed one's successor may already be open under the name).
    document.once('destroy', () => bindings.unload(documentName, document));
    // The server writes with the document's own client id; make sure no user owns it.
    // Stored before the document opens (a full disk refuses the opening: the client retries later).
    while (!(await bindings.bind(documentName, [document.clientID], SERVER_WRITER).catch(closeOnStorageFailure))) {
      document.clientID = Math.floor(Math.random() * 2 ** 32);
    }
  }

  async beforeSync({ type, payload, document, documentName, context }: beforeSyncPayload): Promise<void> {
    if (isSyncStep1(type)) return this.refuseEarlierEpoch(documentName, payload);
    if (!carriesUpdate(type)) return;
    const identity = (context as Partial<ConnectionContext>).identity;
    if (!identity) this.refuse(documentName, refusal(UpdateRejection.malformed, 'not authenticated'), 'unknown');
    const writer = { userId: identity.userId, admin: isAdmin(identity) };
    let why = await this.check(document, documentName, payload, writer);
    // Judged against a copy that may lag the store (issue 15): once more after catching up.
    if (why && this.deps.catchUp && (why.reason === UpdateRejection.missingDependency || this.bringsOthers(document, documentName, payload, writer))) {
      if (!(await this.deps.catchUp(document).catch(closeOnStorageFailure))) throw renewedClosing();
      why = await this.check(document, documentName, payload, writer);
    }
    // Only a live update: a sync step 2 answers this server's state vector, so a gap in it is one the sender lacks too.
    if (why?.senderAhead && isLiveUpdate(type)) this.askForResync(documentName, why, writer.userId);
    if (why) this.refuse(documentName, why, writer.userId);
  }

  /**
   * The update builds on the sender's own changes the server never stored (a
   * failed write, a server that died before its commit). Nothing is wrong
   * with it, so it is not refused: the document is closed with
   * `resync-needed`, nothing applied, and the replica's next sync brings the
   * earlier changes and this one together. (Hocuspocus drops what else the
   * connection had queued, the sync step 2 that would have filled the gap
   * among it; refusing instead made the SDK drop and rebuild its replica.)
   */
  private askForResync(documentName: string, why: Refusal, userId: string): never {
    this.deps.metrics.updatesRejected.inc({ reason: ServerFailure.resyncNeeded });
    const { allowed } = this.logBudget.take();
    if (allowed) this.deps.logger.info({ documentName, userId, detail: why.detail }, 'update ahead of the store: asked the sender to sync again');
    throw resyncClosing(why.detail);
  }

  /**
   * Whether the update holds, past this copy's state, structs of a client id
   * not bound here to the writer: a client that synced through another
   * server (issue 15) brings what that server stored and this one may not
   * have applied yet, other users' messages among it. Refused as they stand
   * (their authors are not the writer), they pass once this copy caught up.
   */
  private bringsOthers(document: beforeSyncPayload['document'], documentName: string, payload: Uint8Array, writer: Writer): boolean {
    let vector: Map<number, number>;
    try {
      vector = Y.decodeStateVector(Y.encodeStateVectorFromUpdate(payload));
    } catch {
      return false;
    }
    for (const [client, clock] of vector) {
      if (clock > Y.getState(document.store, client) && this.deps.bindings.ownerOf(documentName, client) !== writer.userId) return true;
    }
    return false;
  }

  /** The update's refusal, or null once it passed (its new client ids are bound then). */
  private async check(document: beforeSyncPayload['document'], documentName: string, payload: Uint8Array, writer: Writer): Promise<Refusal | null> {
    const { bindings, metrics } = this.deps;
    const verdict = this.judge(document, documentName, payload, writer);
    if ('reason' in verdict) return verdict;
    if (!bindings.hasRoom(documentName, writer.userId, verdict.newClients.length)) {
      return refusal(UpdateRejection.tooManyEntries, `at most ${DEFAULTS.clientIdsMaxPerUserPerDocument} Yjs client ids per user in a document`);
    }
    const name = parseDocName(documentName);
    const conversationId = name?.type === 'conversation' ? name.id : null;
    if (renewable(documentName) && verdict.newClients.length && (await bindings.anyRetired(documentName, verdict.newClients))) throw renewedClosing();
    const taken = conversationId ? await refuseArchivedIds(document, this.deps.archive, conversationId, verdict.claimedMessageIds) : null;
    if (taken) return taken;
    if (verdict.newClients.length && !(await bindings.bind(documentName, verdict.newClients, writer.userId).catch(closeOnStorageFailure))) {
      return refusal(UpdateRejection.foreignClient, 'client id taken meanwhile');
    }
    if (!verdict.empty) metrics.updatesApplied.inc();
    return null;
  }

  /**
   * Sync step 1 carries the replica's state vector: one that names a client
   * id retired by a renewal is a replica of an earlier epoch, and syncing it
   * would merge every old message back in. Answered with `document-renewed`
   * instead (issue 9, item 2). Only ids not bound in this epoch are looked up.
   */
  private async refuseEarlierEpoch(documentName: string, payload: Uint8Array): Promise<void> {
    if (!renewable(documentName)) return;
    let vector: Map<number, number>;
    try {
      vector = Y.decodeStateVector(payload);
    } catch {
      return; // Hocuspocus answers a malformed step 1 itself
    }
    const unknown = [...vector.keys()].filter((client) => this.deps.bindings.ownerOf(documentName, client) === null);
    if (await this.deps.bindings.anyRetired(documentName, unknown)) throw renewedClosing();
  }

  /** The server decides who a connection is: the `user` of every awareness state it sends is overwritten. */
  async beforeHandleAwareness({ states, context, documentName, document }: beforeHandleAwarenessPayload): Promise<void> {
    const identity = (context as Partial<ConnectionContext> | undefined)?.identity;
    if (!identity) return;
    // Each new client id is a stored binding: thousands in one message stalled the server for seconds.
    let claims = DEFAULTS.awarenessNewClientsPerMessage;
    for (const [clientId, state] of states) {
      // Hocuspocus decodes into a scratch Awareness whose own empty state comes along under a random
      // client id; an empty state claims nothing, or every awareness message would store a binding.
      const claimable = typeof state === 'object' && state !== null && Object.keys(state).length > 0;
      // Every attach and every broadcast re-sends the states: bound their size and number (see DEFAULTS).
      if (claimable && !fitsAwareness(state, document.awareness.getStates(), clientId)) {
        states.delete(clientId);
        continue;
      }
      // A state for a client id owned by someone else would overwrite their presence: drop it.
      const owner = this.deps.bindings.ownerOf(documentName, clientId);
      if (
        owner !== identity.userId &&
        !(
          owner === null &&
          claimable &&
          claims-- > 0 &&
          this.deps.bindings.hasRoom(documentName, identity.userId, 1) &&
          (await this.deps.bindings.bind(documentName, [clientId], identity.userId))
        )
      ) {
        states.delete(clientId);
        continue;
      }
      if (state && typeof state === 'object') state.user = { id: identity.userId, name: identity.name };
    }
  }

  /**
   * A fault in validation refuses the update with a reason instead of
   * throwing through Hocuspocus, which resets the connection with no reason
   * (a 10,000-item chain once overflowed the stack there).
   */
  private judge(document: beforeSyncPayload['document'], documentName: string, payload: Uint8Array, writer: { userId: string; admin: boolean }): ReturnType<typeof validateUpdate> {
    try {
      return validateUpdate(document, documentName, payload, writer, (client) => this.deps.bindings.ownerOf(documentName, client), this.deps.upload);
    } catch (error) {
      // A client can trigger a fault at will once it finds one: within the same log budget as refusals.
      const fields = { documentName, userId: writer.userId, err: error instanceof Error ? error.message : String(error) };
      if (this.logBudget.take().allowed) this.deps.logger.error(fields, 'update validation failed');
      else this.deps.logger.debug(fields, 'update validation failed');
      return refusal(UpdateRejection.malformed, 'the update could not be judged');
    }
  }

  private refuse(documentName: string, why: Refusal, userId: string): never {
    this.deps.metrics.updatesRejected.inc({ reason: why.reason });
    // A client refuses its own updates at will: one compact line each, within a budget (the metric counts them all).
    const { allowed, suppressed } = this.logBudget.take();
    const fields = { documentName, userId, reason: why.reason, detail: why.detail.slice(0, 200), ...(suppressed && { suppressed }) };
    if (allowed) this.deps.logger.warn(fields, 'update refused');
    else this.deps.logger.debug(fields, 'update refused');
    throw why;
  }
}

function fitsAwareness(state: object, held: ReadonlyMap<number, unknown>, clientId: number): boolean {
  if (!held.has(clientId) && held.size >= DEFAULTS.awarenessStatesPerDocument) return false;
  return Buffer.byteLength(JSON.stringify(state)) <= DEFAULTS.awarenessStateMaxBytes;
}

/** Documents that are renewed into new epochs (issue 9): conversations' live documents and inboxes. */
function renewable(documentName: string): boolean {
  const type = parseDocName(documentName)?.type;
  return type === 'conversation' || type === 'inbox';
}
