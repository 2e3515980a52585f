import { describe, expect, it } from 'vitest';
import { RecomputeQueue } from './RecomputeQueue';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits for `done` (polling), so a loaded machine only makes the test slower, not wrong. */
async function eventually(done: () => boolean, what: string, ms = 3_000): Promise<void> {
  const end = Date.now() + ms;
  while (!done()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await pause(5);
  }
}

function recorder(runMs = 0) {
  const runs: Array<{ key: string; at: number }> = [];
  let running = 0;
  let overlapped = false;
  const run = async (key: string) => {
    running++;
    if (running > 1) overlapped = true;
    runs.push({ key, at: Date.now() });
    await pause(runMs);
    running--;
  };
  return { runs, run, overlapped: () => overlapped };
}

describe('RecomputeQueue', () => {
  it('coalesces a burst into one run after the delay', async () => {
    const { runs, run } = recorder();
    const queue = new RecomputeQueue(run, { delayMs: 20, intervalFactor: 0, maxIntervalMs: 0, restFactor: 0 });
    const start = Date.now();
    for (let i = 0; i < 5; i++) queue.schedule('a');
    await eventually(() => runs.length > 0, 'the run');
    await pause(50);
    expect(runs.map((r) => r.key)).toEqual(['a']);
    expect(runs[0]!.at - start).toBeGreaterThanOrEqual(19);
  });

  it('runs a key again only after an interval in proportion to its cost (capped), and keys one at a time', async () => {
    const { runs, run, overlapped } = recorder(5);
    const queue = new RecomputeQueue(run, { delayMs: 1, intervalFactor: 1_000, maxIntervalMs: 80, restFactor: 0 });
    queue.schedule('a');
    queue.schedule('b');
    await eventually(() => runs.length === 2, 'a and b');
    queue.schedule('a');
    await eventually(() => runs.length === 3, 'a again');
    const aRuns = runs.filter((r) => r.key === 'a');
    // A 5 ms run times 1,000 would wait 5 s: the cap makes it 80 ms.
    expect(aRuns[1]!.at - aRuns[0]!.at).toBeGreaterThanOrEqual(79);
    expect(runs.map((r) => r.key).sort()).toEqual(['a', 'a', 'b']);
    expect(overlapped()).toBe(false);
  });

  it('lets a cheap key run again right after the delay', async () => {
    const { runs, run } = recorder();
    const queue = new RecomputeQueue(run, { delayMs: 5, intervalFactor: 2, maxIntervalMs: 10_000, restFactor: 0 });
    queue.schedule('a');
    await eventually(() => runs.length === 1, 'the first run');
    queue.schedule('a');
    // Were the interval not scaled by cost, this would wait for the 10 s cap.
    await eventually(() => runs.length === 2, 'the second run', 3_000);
  });

  it('idle() runs what waits, throttled keys included, without the waits', async () => {
    const { runs, run } = recorder();
    const queue = new RecomputeQueue(run, { delayMs: 10_000, intervalFactor: 1e9, maxIntervalMs: 60_000, restFactor: 10 });
    const start = Date.now();
    queue.schedule('a');
    await pause(5); // the worker is waiting out the delay now
    await queue.idle();
    queue.schedule('a'); // ran just now: throttled for up to a minute
    queue.schedule('b');
    await queue.idle();
    expect(runs.map((r) => r.key).sort()).toEqual(['a', 'a', 'b']);
    expect(Date.now() - start).toBeLessThan(5_000);
  });
});
