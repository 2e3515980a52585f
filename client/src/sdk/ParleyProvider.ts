import { HocuspocusProvider, WebSocketStatus, type HocuspocusProviderConfiguration } from '@hocuspocus/provider';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import type { AttachGate } from './AttachGate';
import { vectorOfDoc, type StateVector } from './AckVector';

/** y-protocols message ids: Hocuspocus `Sync` message, sync step 2. */
const MESSAGE_SYNC = 0;
const SYNC_STEP_2 = 1;

/**
 * A Hocuspocus provider with three changes:
 *
 * - Its authentication waits for a slot in the session's AttachGate, so
 *   documents attach to the shared socket in batches, on the first connection
 *   and on every reconnection alike.
 * - It sends no incremental update until it has sent its sync step 2 on the
 *   current connection. Provider 4.8 queues updates made while the socket is
 *   down (and may drop part of that queue on a retry), then flushes them before
 *   the handshake: the server would get an update whose earlier clocks it has
 *   never seen and refuse it (missing dependency). Held-back updates lose
 *   nothing: the step 2 reply carries everything the server lacks.
 * - It tells what each acknowledgement covers (`onAcknowledged`). The server
 *   answers every sync step 2 and update it took in (stored: the write
 *   pipeline awaits the commit) with one SyncStatus, in order, and closes the
 *   document at the first it refuses. So the k-th answer on a connection
 *   covers the document's state vector as it was when the k-th such message
 *   went out. Taking "no change left unanswered" for "the whole document is
 *   stored" instead was wrong whenever the count and the document drifted
 *   apart (changes made between a step 2 and its answer, an answer left over
 *   from the previous connection): the renewal fuzz lost messages the replica
 *   took for acknowledged.
 */
export class ParleyProvider extends HocuspocusProvider {
  private gate: AttachGate | null = null;
  private handshakeDone = false;
  /** What each sync step 2 and update sent on this connection covers, oldest first, until answered. */
  private awaitingAnswer: StateVector[] = [];

  constructor(
    configuration: HocuspocusProviderConfiguration,
    gate: AttachGate,
    /** The server stored everything up to `vector` (called once per answer, in order). */
    private readonly onAcknowledged: (vector: StateVector) => void = () => {},
  ) {
    super(configuration);
    this.gate = gate;
    const release = () => gate.release(this);
    this.on('authenticated', release);
    this.on('authenticationFailed', release);
    this.on('close', () => this.forgetConnection());
  }

  /** A new connection answers only what is sent on it. */
  private forgetConnection(): void {
    this.handshakeDone = false;
    this.awaitingAnswer = [];
  }

  /**
   * One SyncStatus answer. An answer with nothing awaiting it is left over
   * from an earlier connection of this document on the socket (it arrives
   * before this connection's own step 2 can go out): it covers nothing.
   */
  override decrementUnsyncedChanges(): void {
    const covered = this.awaitingAnswer.shift();
    super.decrementUnsyncedChanges();
    if (covered) this.onAcknowledged(covered);
  }

  /**
   * The sync step 2 went out on this connection: only from then on does
   * `unsyncedChanges` reaching 0 mean the server acknowledged everything
   * (before, held-back updates are counted down unsent). A replica that
   * takes such a 0 for an acknowledgement would lose the held-back change at
   * a renewal, where nothing is resent by sync (issue 9, item 2).
   */
  get handshakeComplete(): boolean {
    return this.handshakeDone;
  }

  override async onOpen(event: Event): Promise<void> {
    this.forgetConnection();
    if (this.gate && !(await this.gate.admit(this))) return;
    // The socket may have closed while this document waited its turn.
    if (!this.isAttached || this.configuration.websocketProvider.status !== WebSocketStatus.Connected) {
      this.gate?.release(this);
      return;
    }
    return super.onOpen(event);
  }

  /**
   * Tears the provider down and drops what it left queued on the socket. A
   * provider destroyed while its socket is closing (the server closed it
   * right after `document-renewed`, say) queues its CLOSE there, and the
   * socket sends its queue on the next connection, after the messages of the
   * replica's new provider for the same document: the server then closes
   * that one (`provider_initiated`) and the replica never syncs again (the
   * renewal fuzz's seeds 11 and 33 under load). Nothing queued by a
   * destroyed provider is wanted on a later connection: the new provider's
   * handshake carries what the server lacks.
   */
  override destroy(): void {
    super.destroy();
    const socket = this.configuration.websocketProvider as unknown as { messageQueue?: unknown[] };
    if (Array.isArray(socket.messageQueue)) socket.messageQueue = socket.messageQueue.filter((queued) => documentOf(queued) !== this.effectiveName);
  }

  override send(message: Parameters<HocuspocusProvider['send']>[0], args: Record<string, unknown>): void {
    const socket = this.configuration.websocketProvider.webSocket;
    const open = socket !== null && socket !== undefined && socket.readyState === socket.OPEN;
    // A closing socket queues what it is given and replays it after the next handshake: hold back instead.
    if (socket && !open) this.handshakeDone = false;
    if (args.update instanceof Uint8Array && !this.handshakeDone) {
      // documentUpdateHandler counted this update as waiting for an answer; none will come.
      this.unsyncedChanges = Math.max(0, this.unsyncedChanges - 1);
      return;
    }
    const stepTwo = !(args.update instanceof Uint8Array) && args.encoder !== undefined && isSyncStep2(encoding.toUint8Array(args.encoder as encoding.Encoder));
    // Nor a sync step 2: queued, it would reach the server on the next connection and be answered
    // there ahead of that connection's own step 2, and that answer would be taken for the
    // acknowledgement of what the new connection sent (the renewal fuzz lost the last messages
    // before a renewal that way, under load). The next connection's handshake makes its own.
    if (stepTwo && !open) return;
    super.send(message, args);
    if (!open) return;
    if (args.update instanceof Uint8Array) this.awaitingAnswer.push(vectorOfDoc(this.document));
    else if (stepTwo) {
      this.handshakeDone = true;
      this.awaitingAnswer.push(vectorOfDoc(this.document));
    }
  }
}

/** The document a queued frame is for (its leading var string), or null. */
function documentOf(frame: unknown): string | null {
  if (!(frame instanceof Uint8Array)) return null;
  try {
    return decoding.readVarString(decoding.createDecoder(frame));
  } catch {
    return null;
  }
}

function isSyncStep2(bytes: Uint8Array): boolean {
  try {
    const decoder = decoding.createDecoder(bytes);
    decoding.readVarString(decoder);
    return decoding.readVarUint(decoder) === MESSAGE_SYNC && decoding.readVarUint(decoder) === SYNC_STEP_2;
  } catch {
    return false;
  }
}
