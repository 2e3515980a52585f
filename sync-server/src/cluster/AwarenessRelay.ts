import type { Document, Extension, Hocuspocus, afterLoadDocumentPayload, afterUnloadDocumentPayload, onAwarenessUpdatePayload } from '@hocuspocus/server';
import { applyAwarenessUpdate, encodeAwarenessUpdate, removeAwarenessStates } from 'y-protocols/awareness';
import * as decoding from 'lib0/decoding';
import { z } from 'zod';
import { DEFAULTS } from '@parley/schema';
import type { Logger } from '../logger';
import type { RedisBus } from './RedisBus';

const CHANNEL = 'awareness';

/** What travels between nodes: a document's awareness update from one node (`u`), or a node asking for the states of a document it just loaded (`q`). */
const Envelope = z.discriminatedUnion('k', [
  z.object({ k: z.literal('u'), n: z.string().min(1).max(64), d: z.string().min(1).max(512), u: z.base64() }),
  z.object({ k: z.literal('q'), n: z.string().min(1).max(64), d: z.string().min(1).max(512) }),
]);
type Envelope = z.infer<typeof Envelope>;

/** The origin of states applied from another node: not published again. */
const RELAYED = Symbol('relayed from another node');

/**
 * Awareness (typing, who is here) across nodes over Redis pub/sub. A change
 * of a state that belongs to this node's connections is published; every
 * node that holds the document applies it to its document's awareness, and
 * Hocuspocus sends it to that node's clients. Relayed states age like any
 * remote state (y-protocols removes a state not renewed for 30 s; clients
 * renew theirs every 15 s and the renewal is relayed too); a client leaving
 * is relayed as the removal of its states; a dead node's states are removed
 * as soon as its presence expires (`forgetNode`). A node that loads a
 * document asks the others for its current states, and after a Redis outage
 * every node publishes its own and asks for the others', so nobody waits for
 * the next renewal.
 */
export class AwarenessRelay implements Extension {
  /** Per loaded document: the client ids whose states came from another node, and which. */
  private readonly relayed = new Map<string, Map<number, string>>();
  private hocuspocus: Hocuspocus | null = null;

  constructor(private readonly deps: { bus: RedisBus; nodeId: string; logger: Logger }) {}

  start(hocuspocus: Hocuspocus): void {
    this.hocuspocus = hocuspocus;
    this.deps.bus.subscribe(CHANNEL, (message) => this.received(message));
    // After an outage (or a first connection late): send ours, ask for theirs.
    this.deps.bus.onReady(() => {
      for (const document of hocuspocus.documents.values()) {
        this.publishOwn(document);
        this.send({ k: 'q', n: this.deps.nodeId, d: document.name });
      }
    });
  }

  async afterLoadDocument({ documentName }: afterLoadDocumentPayload): Promise<void> {
    this.relayed.set(documentName, new Map());
    this.send({ k: 'q', n: this.deps.nodeId, d: documentName });
  }

  async afterUnloadDocument({ documentName }: afterUnloadDocumentPayload): Promise<void> {
    this.relayed.delete(documentName);
  }

  async onAwarenessUpdate({ document, documentName, added, updated, removed, transactionOrigin }: onAwarenessUpdatePayload): Promise<void> {
    const relayed = this.relayed.get(documentName);
    if (transactionOrigin === RELAYED || !relayed) return;
    const own = [...added, ...updated].filter((id) => !relayed.has(id));
    // A relayed state timing out here is the other node's to renew or remove: not published.
    for (const id of removed) if (!relayed.delete(id)) own.push(id);
    if (own.length > 0) this.publish(document, own);
  }

  /** A node died: its states go now, not after the 30 s timeout. */
  forgetNode(node: string): void {
    for (const [documentName, relayed] of this.relayed) {
      const ids = [...relayed].filter(([, from]) => from === node).map(([id]) => id);
      const document = this.hocuspocus?.documents.get(documentName);
      if (ids.length === 0 || !document) continue;
      for (const id of ids) relayed.delete(id);
      removeAwarenessStates(document.awareness, ids, RELAYED);
    }
  }

  private publishOwn(document: Document): void {
    const relayed = this.relayed.get(document.name);
    const own = [...document.awareness.getStates().keys()].filter((id) => !relayed?.has(id) && id !== document.awareness.clientID);
    if (own.length > 0) this.publish(document, own);
  }

  private publish(document: Document, clients: number[]): void {
    const update = encodeAwarenessUpdate(document.awareness, clients);
    this.send({ k: 'u', n: this.deps.nodeId, d: document.name, u: Buffer.from(update).toString('base64') });
  }

  private send(envelope: Envelope): void {
    const message = Buffer.from(JSON.stringify(envelope));
    if (message.byteLength > DEFAULTS.clusterAwarenessMessageMaxBytes) {
      this.deps.logger.warn({ documentName: envelope.d, bytes: message.byteLength }, 'an awareness update too large to relay was dropped');
      return;
    }
    void this.deps.bus.publish(CHANNEL, message);
  }

  private received(message: Buffer): void {
    if (message.byteLength > DEFAULTS.clusterAwarenessMessageMaxBytes) return;
    let envelope: Envelope;
    try {
      envelope = Envelope.parse(JSON.parse(message.toString('utf8')));
    } catch {
      this.deps.logger.warn('a malformed awareness message from redis was dropped');
      return;
    }
    if (envelope.n === this.deps.nodeId) return;
    const document = this.hocuspocus?.documents.get(envelope.d);
    const relayed = this.relayed.get(envelope.d);
    if (!document || !relayed) return;
    if (envelope.k === 'q') return this.publishOwn(document);
    this.apply(document, relayed, envelope.n, new Uint8Array(Buffer.from(envelope.u, 'base64')));
  }

  private apply(document: Document, relayed: Map<number, string>, node: string, update: Uint8Array): void {
    let entries: Array<{ id: number; removed: boolean }>;
    try {
      entries = awarenessEntries(update);
      applyAwarenessUpdate(document.awareness, update, RELAYED);
    } catch {
      this.deps.logger.warn({ documentName: document.name, node }, 'an undecodable awareness update from another node was dropped');
      return;
    }
    for (const { id, removed } of entries) {
      if (removed) relayed.delete(id);
      else relayed.set(id, node);
    }
  }
}

/** The client ids an awareness update names, and whether it removes each (its state is `null`). */
function awarenessEntries(update: Uint8Array): Array<{ id: number; removed: boolean }> {
  const decoder = decoding.createDecoder(update);
  const entries: Array<{ id: number; removed: boolean }> = [];
  for (let n = decoding.readVarUint(decoder); n > 0; n--) {
    const id = decoding.readVarUint(decoder);
    decoding.readVarUint(decoder); // clock
    entries.push({ id, removed: decoding.readVarString(decoder) === 'null' });
  }
  return entries;
}
