import { useEffect, useSyncExternalStore } from 'react';
import type { BlockEntry } from '@parley/schema';
import { useSession } from '../react';

/** Whom the signed-in user blocks, loaded from the server on first use and kept current by the user's own changes. */
export function useBlocks(): readonly BlockEntry[] {
  const session = useSession();
  const blocks = session.blocks;
  useEffect(() => {
    // Offline: the app shows everything until the list loads; the server still applies the blocks.
    blocks.load().catch(() => {});
  }, [blocks]);
  return useSyncExternalStore(
    (onChange) => blocks.on('change', onChange),
    () => blocks.list(),
  );
}
