import * as Y from 'yjs';
import { decodeVector, encodeVector, type StateVector } from './AckVector';

/**
 * Live state sharing between open tabs of one user, with or without network.
 *
 * Each tab keeps its own socket and replicas; this relay copies every Yjs
 * update (and acknowledgement news) to the other tabs over a BroadcastChannel,
 * and a tab that opens a document swaps state vectors with the others, like
 * the Yjs sync protocol. Chosen over a leader tab because every tab stays
 * self-sufficient: no election, no hand-over when the leader closes, no
 * proxying of operations; the cost is one socket per tab.
 */
type RelayMessage =
  | { t: 'hello'; doc: string; from: string; sv: Uint8Array }
  | { t: 'need'; doc: string; from: string; to: string; sv: Uint8Array }
  | { t: 'update'; doc: string; from: string; update: Uint8Array }
  | { t: 'ack'; doc: string; from: string; sv: number[][] }
  | { t: 'reset'; doc: string; from: string };

export interface RelayTarget {
  doc(): Y.Doc;
  mergeAck(vector: StateVector): void;
  resetFromPeer(): void;
}

export class TabRelay {
  readonly tabId = Math.random().toString(36).slice(2);
  private channel: BroadcastChannel | null;
  private targets = new Map<string, RelayTarget>();

  constructor(channelName: string) {
    this.channel = typeof BroadcastChannel === 'undefined' ? null : new BroadcastChannel(channelName);
    if (this.channel) {
      this.channel.onmessage = (event: MessageEvent<RelayMessage>) => this.receive(event.data);
      // Node keeps a process alive while a channel is open; a relay must not.
      (this.channel as unknown as { unref?: () => void }).unref?.();
    }
  }

  /** Starts relaying a document and asks other tabs for what they hold. */
  join(docName: string, target: RelayTarget): () => void {
    this.targets.set(docName, target);
    this.post({ t: 'hello', doc: docName, from: this.tabId, sv: Y.encodeStateVector(target.doc()) });
    return () => {
      if (this.targets.get(docName) === target) this.targets.delete(docName);
    };
  }

  /** True when the update came from another tab (so it must not be echoed back). */
  isOrigin(origin: unknown): boolean {
    return origin === this;
  }

  publishUpdate(docName: string, update: Uint8Array): void {
    this.post({ t: 'update', doc: docName, from: this.tabId, update });
  }

  publishAck(docName: string, vector: StateVector): void {
    this.post({ t: 'ack', doc: docName, from: this.tabId, sv: encodeVector(vector) });
  }

  publishReset(docName: string): void {
    this.post({ t: 'reset', doc: docName, from: this.tabId });
  }

  close(): void {
    this.channel?.close();
    this.channel = null;
    this.targets.clear();
  }

  private post(message: RelayMessage): void {
    this.channel?.postMessage(message);
  }

  private receive(message: RelayMessage): void {
    if (message.from === this.tabId) return;
    const target = this.targets.get(message.doc);
    if (!target) return;
    const doc = target.doc();
    switch (message.t) {
      case 'hello':
        this.sendDiff(message.doc, doc, message.sv);
        this.post({ t: 'need', doc: message.doc, from: this.tabId, to: message.from, sv: Y.encodeStateVector(doc) });
        break;
      case 'need':
        if (message.to === this.tabId) this.sendDiff(message.doc, doc, message.sv);
        break;
      case 'update':
        Y.applyUpdate(doc, message.update, this);
        break;
      case 'ack':
        target.mergeAck(decodeVector(message.sv));
        break;
      case 'reset':
        target.resetFromPeer();
        break;
    }
  }

  private sendDiff(docName: string, doc: Y.Doc, theirs: Uint8Array): void {
    const diff = Y.encodeStateAsUpdate(doc, theirs);
    // An update with no structs and an empty delete set is two zero bytes.
    if (diff.length > 2) this.publishUpdate(docName, diff);
  }
}
