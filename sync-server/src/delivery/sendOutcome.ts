import { DEFAULTS } from '@parley/schema';

/**
 * What one send to a peer came to. `retry`: the peer did not take it (an
 * answer said so, or nothing was written), so it may be sent again;
 * `uncertain`: it may have arrived (the request was written and then the
 * answer never came): sent again on push, never on email and SMS
 * (deliverOnce's ON_UNKNOWN_OUTCOME).
 */
export type SendOutcome =
  | { kind: 'sent' }
  | { kind: 'gone'; detail: string }
  | { kind: 'retry'; detail: string; afterMs?: number }
  | { kind: 'rejected'; detail: string }
  | { kind: 'uncertain'; detail: string };

/** A `Retry-After` header (seconds or an HTTP date) in ms, capped; undefined when absent or unreadable. */
export function retryAfterMs(header: string | undefined, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const trimmed = header.trim();
  const ms = /^\d+$/.test(trimmed) ? Number(trimmed) * 1000 : Date.parse(trimmed) - now;
  if (!Number.isFinite(ms)) return undefined;
  return Math.min(Math.max(ms, 0), DEFAULTS.deliveryRetryAfterMaxMs);
}

/**
 * An HTTP peer's answer (push service, SMS webhook): 2xx taken; 429 and 5xx
 * later (honouring Retry-After); a redirect is not followed (the endpoint is
 * wrong, and following it would let the peer point us anywhere); other 4xx
 * refused for good. `goneStatuses` are the push service's "no such subscription".
 */
export function outcomeOfStatus(status: number, retryAfter: string | undefined, body: string, goneStatuses: readonly number[] = []): SendOutcome {
  const detail = `HTTP ${status}${body ? `: ${body.slice(0, 200)}` : ''}`;
  if (status >= 200 && status < 300) return { kind: 'sent' };
  if (goneStatuses.includes(status)) return { kind: 'gone', detail };
  if (status === 429 || status >= 500) return { kind: 'retry', detail, afterMs: retryAfterMs(retryAfter) };
  if (status >= 300 && status < 400) return { kind: 'rejected', detail: `${detail} (redirects are not followed)` };
  return { kind: 'rejected', detail };
}
