import { describe, expect, it } from 'vitest';
import { AttachGate } from './AttachGate';

describe('AttachGate', () => {
  it('admits up to the limit, then one per answer', async () => {
    const gate = new AttachGate(2);
    const [a, b, c] = [{}, {}, {}];
    expect(await gate.admit(a)).toBe(true);
    expect(await gate.admit(b)).toBe(true);
    let admitted: boolean | null = null;
    void gate.admit(c).then((ok) => (admitted = ok));
    await Promise.resolve();
    expect(admitted).toBe(null);
    gate.release(a);
    await Promise.resolve();
    expect(admitted).toBe(true);
    expect(gate.pending).toBe(2);
  });

  it('turns waiters away when the socket closes', async () => {
    const gate = new AttachGate(1);
    await gate.admit({});
    const waiting = gate.admit({});
    gate.reset();
    expect(await waiting).toBe(false);
    expect(gate.pending).toBe(0);
  });
});
