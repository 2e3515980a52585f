import { describe, expect, it } from 'vitest';
import { OutputGate, type CommitBarrier } from './OutputGate';

/** A barrier driven by hand: `open()` starts a batch, `commit()` settles the oldest. */
function manualBarrier() {
  const batches: Array<{ batch: number; settled: Promise<void>; settle: () => void }> = [];
  let next = 1;
  let open: (typeof batches)[number] | null = null;
  const barrier: CommitBarrier = { pending: () => open ?? batches[batches.length - 1] ?? null };
  return {
    barrier,
    /** Writes queued from now on join a new batch. */
    open() {
      let settle!: () => void;
      const settled = new Promise<void>((resolve) => (settle = resolve));
      open = { batch: next++, settled, settle };
      batches.push(open);
    },
    /** The open batch starts committing: later writes would join a newer one. */
    close() {
      open = null;
    },
    async commit() {
      const done = batches.shift()!;
      if (open === done) open = null;
      done.settle();
      await new Promise((r) => setTimeout(r, 0));
    },
  };
}

const frame = (n: number) => new Uint8Array([n]);

describe('OutputGate', () => {
  it('sends at once while nothing is waiting to commit', () => {
    const sent: number[] = [];
    const gate = new OutputGate({ pending: () => null }, (f) => sent.push(f[0]!));
    gate.send(frame(1));
    expect(sent).toEqual([1]);
  });

  it('holds frames produced during a commit until it settles, in order, and later ones behind them', async () => {
    const b = manualBarrier();
    const sent: number[] = [];
    const gate = new OutputGate(b.barrier, (f) => sent.push(f[0]!));
    b.open();
    gate.send(frame(1));
    gate.send(frame(2));
    b.close();
    b.open();
    gate.send(frame(3));
    expect(sent).toEqual([]);
    await b.commit();
    expect(sent).toEqual([1, 2]);
    expect(gate.backlog).toBe(1);
    await b.commit();
    expect(sent).toEqual([1, 2, 3]);
  });

  it('keeps order for a frame produced with nothing pending behind held ones', async () => {
    const b = manualBarrier();
    const sent: number[] = [];
    const gate = new OutputGate(b.barrier, (f) => sent.push(f[0]!));
    b.open();
    gate.send(frame(1));
    b.close();
    // Nothing pending any more from the gate's point of view once the batch settles; until then 2 waits behind 1.
    gate.send(frame(2));
    await b.commit();
    expect(sent).toEqual([1, 2]);
  });

  it('does not starve under a stream of commits: each frame leaves once its own batch settled', async () => {
    const b = manualBarrier();
    const sent: number[] = [];
    const gate = new OutputGate(b.barrier, (f) => sent.push(f[0]!));
    for (let i = 1; i <= 5; i++) {
      b.open();
      gate.send(frame(i));
      b.close();
    }
    b.open(); // always something new pending
    await b.commit();
    await b.commit();
    expect(sent).toEqual([1, 2]);
  });

  it('drops held frames the failure check names', async () => {
    const b = manualBarrier();
    const sent: number[] = [];
    const gate = new OutputGate(b.barrier, (f) => sent.push(f[0]!), (f) => f[0] === 2);
    b.open();
    gate.send(frame(1));
    gate.send(frame(2));
    gate.send(frame(3));
    await b.commit();
    expect(sent).toEqual([1, 3]);
  });
});
