import * as decoding from 'lib0/decoding';
import { DEFAULTS } from '@parley/schema';
import { RateLimiter } from '../RateLimiter';

/** Hocuspocus message type of a QueryAwareness frame (`varString(address) varUint(type)`). */
const QUERY_AWARENESS = 3;

function messageType(frame: Uint8Array): number | null {
  try {
    const decoder = decoding.createDecoder(frame);
    decoding.readVarString(decoder);
    return decoding.readVarUint(decoder);
  } catch {
    return null;
  }
}

/**
 * QueryAwareness at a bounded rate per socket. The frame is tiny, but
 * Hocuspocus answers it by encoding the whole document's awareness: with a
 * large state, queries at the allowed message rate held the event loop for
 * tens of seconds. Providers never send one (the server sends the awareness
 * on every attach), so past the rate they are dropped.
 */
export class AwarenessQueries {
  private readonly limiter = new RateLimiter(DEFAULTS.awarenessQueriesPerSecond, DEFAULTS.awarenessQueriesBurst);

  /** False for a QueryAwareness over the rate: drop it. */
  admit(frame: Uint8Array): boolean {
    return messageType(frame) !== QUERY_AWARENESS || this.limiter.take();
  }
}
