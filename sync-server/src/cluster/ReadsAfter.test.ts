import { describe, expect, it } from 'vitest';
import { ReadsAfter } from './ReadsAfter';

/** A store whose reads the test finishes by hand; each answers the value committed when it began. */
function store() {
  let committed = 0;
  let started = 0;
  const pending: Array<() => void> = [];
  const reads = new ReadsAfter(async (_key: object) => {
    started++;
    const seen = committed;
    await new Promise<void>((resolve) => pending.push(resolve));
    return seen;
  });
  const finishNext = async () => {
    pending.shift()!();
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { reads, commit: () => ++committed, finishNext, started: () => started };
}

describe('ReadsAfter', () => {
  it('never answers a caller with a read that began before its call', async () => {
    const s = store();
    const key = {};
    const first = s.reads.after(key);
    s.commit(); // acknowledged to a client after the first read began
    const second = s.reads.after(key); // that client asks
    await s.finishNext();
    expect(await first).toBe(0);
    await s.finishNext();
    expect(await second).toBe(1);
  });

  it('serves a storm of callers with the read in flight plus one more, not a read each', async () => {
    const s = store();
    const key = {};
    const first = s.reads.after(key);
    s.commit();
    const storm = Array.from({ length: 50 }, () => s.reads.after(key));
    await s.finishNext();
    await s.finishNext();
    expect(await first).toBe(0);
    expect(new Set(await Promise.all(storm))).toEqual(new Set([1]));
    expect(s.started()).toBe(2);
    // Quiet again: the next caller begins a read of its own at once.
    const later = s.reads.after(key);
    expect(s.started()).toBe(3);
    await s.finishNext();
    expect(await later).toBe(1);
  });

  it('answers a caller queued behind a read that fails with the read after it', async () => {
    const key = {};
    let reads = 0;
    let failFirst: (error: Error) => void = () => {};
    const coalesced = new ReadsAfter(async (_key: object) => {
      reads++;
      if (reads === 1) return new Promise<string>((_resolve, reject) => (failFirst = reject));
      return 'second read';
    });
    const first = coalesced.after(key);
    const queued = coalesced.after(key);
    failFirst(new Error('store down'));
    await expect(first).rejects.toThrow('store down');
    await expect(queued).resolves.toBe('second read');
    expect(reads).toBe(2);
  });

  it('keeps keys apart, and a failed read fails only its own callers', async () => {
    const failing = new ReadsAfter(async (key: { fail: boolean }) => {
      if (key.fail) throw new Error('store down');
      return 'read';
    });
    const bad = { fail: true };
    await expect(failing.after(bad)).rejects.toThrow('store down');
    bad.fail = false;
    await expect(failing.after(bad)).resolves.toBe('read');
    await expect(failing.after({ fail: false })).resolves.toBe('read');
  });
});
