import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { TabRelay } from './TabRelay';
import type { StateVector } from './AckVector';

const until = async (test: () => boolean, ms = 2000) => {
  const end = Date.now() + ms;
  while (!test()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
};

/** A "tab": a doc relayed over a channel, forwarding its own updates like DocReplica does. */
function tab(channel: string, docName = 'conversation:c1') {
  const relay = new TabRelay(channel);
  const doc = new Y.Doc();
  const acks: StateVector[] = [];
  doc.on('update', (update: Uint8Array, origin: unknown) => {
    if (!relay.isOrigin(origin)) relay.publishUpdate(docName, update);
  });
  let resets = 0;
  relay.join(docName, { doc: () => doc, mergeAck: (v) => acks.push(v), resetFromPeer: () => resets++ });
  return { relay, doc, acks, resets: () => resets };
}

const relays: TabRelay[] = [];
afterEach(() => relays.splice(0).forEach((r) => r.close()));

describe('TabRelay', () => {
  it('copies live updates between tabs, with no server', async () => {
    const name = `t-${Math.random()}`;
    const a = tab(name);
    const b = tab(name);
    relays.push(a.relay, b.relay);
    a.doc.getArray('messages').push(['from a']);
    await until(() => b.doc.getArray('messages').length === 1);
    b.doc.getArray('messages').push(['from b']);
    await until(() => a.doc.getArray('messages').length === 2);
    expect(a.doc.getArray('messages').toJSON()).toEqual(b.doc.getArray('messages').toJSON());
  });

  it('brings a late tab up to date both ways when it joins', async () => {
    const name = `t-${Math.random()}`;
    const a = tab(name);
    relays.push(a.relay);
    a.doc.getArray('messages').push(['early']);
    // The late tab made its own change before joining (it loaded it from IndexedDB, say).
    const relay = new TabRelay(name);
    relays.push(relay);
    const late = new Y.Doc();
    late.getArray('messages').push(['late']);
    relay.join('conversation:c1', { doc: () => late, mergeAck: () => {}, resetFromPeer: () => {} });
    await until(() => late.getArray('messages').length === 2 && a.doc.getArray('messages').length === 2);
    expect(late.getArray('messages').toJSON()).toEqual(a.doc.getArray('messages').toJSON());
  });

  it('passes acknowledgements and resets on', async () => {
    const name = `t-${Math.random()}`;
    const a = tab(name);
    const b = tab(name);
    relays.push(a.relay, b.relay);
    a.relay.publishAck('conversation:c1', new Map([[7, 3]]));
    a.relay.publishReset('conversation:c1');
    await until(() => b.acks.length === 1 && b.resets() === 1);
    expect(b.acks[0]!.get(7)).toBe(3);
    expect(a.resets()).toBe(0);
  });
});
