/**
 * Deletes every IndexedDB database of one user on this device: those named
 * (the replicas a session had open, its meta store) and, where the browser
 * can list databases, every other one under `prefix:` (replicas of
 * conversations not opened this time). Resolves with how many were deleted.
 *
 * A database another tab still holds open is deleted once that tab closes it
 * (IndexedDB queues the deletion); this does not wait for that.
 */
export async function eraseLocalData(prefix: string, known: readonly string[]): Promise<number> {
  if (typeof indexedDB === 'undefined') return 0;
  const names = new Set(known);
  const listed = await indexedDB.databases?.().catch(() => []);
  for (const db of listed ?? []) if (db.name?.startsWith(`${prefix}:`)) names.add(db.name);
  await Promise.all([...names].map(deleteDatabase));
  return names.size;
}

function deleteDatabase(name: string): Promise<void> {
  return new Promise((resolve) => {
    const request = indexedDB.deleteDatabase(name);
    request.onsuccess = request.onerror = () => resolve();
    // Blocked by another tab: the deletion is queued and happens when it closes.
    request.onblocked = () => resolve();
  });
}
