import { describe, expect, it } from 'vitest';
import type { beforeHandleAwarenessPayload } from '@hocuspocus/server';
import { DEFAULTS } from '@parley/schema';
import { createLogger } from '../../logger';
import { createMetrics } from '../../metrics';
import type { ClientBindingStore } from '../../storage/Storage';
import { ClientBindings } from './ClientBindings';
import { ValidationExtension } from './ValidationExtension';

const DOC = 'conversation:c1';

/** Bindings kept in a map, counting how many were stored. */
class CountingStore implements ClientBindingStore {
  readonly rows = new Map<number, string>();
  async owner(_doc: string, clientId: number) {
    return this.rows.get(clientId) ?? null;
  }
  async bind(_doc: string, clientId: number, userId: string) {
    if (!this.rows.has(clientId)) this.rows.set(clientId, userId);
    return this.rows.get(clientId)!;
  }
  async all() {
    return new Map(this.rows);
  }
  async anyRetired() {
    return false;
  }
}

async function setup() {
  const store = new CountingStore();
  const bindings = new ClientBindings(store);
  await bindings.load(DOC);
  const extension = new ValidationExtension({ bindings, metrics: createMetrics(), logger: createLogger('silent'), archive: { existing: async () => [] } });
  const handle = (states: Map<number, Record<string, unknown>>) =>
    extension.beforeHandleAwareness({ states, documentName: DOC, document: { awareness: { getStates: () => new Map() } }, context: { identity: { userId: 'bob', name: 'Bob' } } } as unknown as beforeHandleAwarenessPayload);
  return { store, handle };
}

describe('ValidationExtension.beforeHandleAwareness', () => {
  it('does not store a binding for the empty state of Hocuspocus\' scratch awareness', async () => {
    const { store, handle } = await setup();
    for (let i = 0; i < 10; i++) {
      // What Hocuspocus passes: its scratch Awareness' own `{}` under a fresh random id, then the client's state.
      const states = new Map<number, Record<string, unknown>>([
        [1000 + i, {}],
        [7, { typing: i % 2 === 0 }],
      ]);
      await handle(states);
      expect([...states.keys()]).toEqual([7]);
      expect(states.get(7)).toMatchObject({ user: { id: 'bob', name: 'Bob' } });
    }
    expect([...store.rows]).toEqual([[7, 'bob']]);
  });

  it(`lets one message claim at most ${DEFAULTS.awarenessNewClientsPerMessage} new client ids`, async () => {
    const { store, handle } = await setup();
    const states = new Map(Array.from({ length: 1000 }, (_, i) => [i + 1, { typing: true }] as [number, Record<string, unknown>]));
    await handle(states);
    expect(states.size).toBe(DEFAULTS.awarenessNewClientsPerMessage);
    expect(store.rows.size).toBe(DEFAULTS.awarenessNewClientsPerMessage);
  });
});
