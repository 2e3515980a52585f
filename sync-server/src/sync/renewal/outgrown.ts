import type * as Y from 'yjs';
import { DEFAULTS, conversationParts, outsideWrites } from '@parley/schema';

/**
 * A live document is due for renewal (issue 9, item 2) when it holds more
 * than `threshold` messages, or when its announcements of changes outside the
 * window took more than `DEFAULTS.outsideChangesRenewAfter` writes (each
 * overwritten one is a tombstone): either way its size would follow the
 * history instead of the window.
 */
export function outgrown(doc: Y.Doc, threshold: number): boolean {
  return conversationParts(doc).messages.length > threshold || outsideWrites(doc) > DEFAULTS.outsideChangesRenewAfter;
}
