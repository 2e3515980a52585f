/**
 * Runs `work` over `items`, `perTurn` of them at once, and lets the event
 * loop go between groups (setImmediate, not a microtask: the group commit
 * settles on microtasks, so awaiting writes alone never yields to I/O). A
 * fan-out to thousands of inboxes then shares the server with the requests
 * arriving meanwhile instead of holding them all up.
 */
export async function inTurns<T>(items: readonly T[], perTurn: number, work: (item: T) => Promise<unknown>): Promise<void> {
  for (let start = 0; start < items.length; start += perTurn) {
    if (start > 0) await new Promise<void>((resolve) => setImmediate(resolve));
    await Promise.all(items.slice(start, start + perTurn).map(work));
  }
}
