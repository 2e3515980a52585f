import type { Metrics } from '../metrics';
import type { DeliveryChannel, DeliveryKey, DeliveryState, DeliveryStore, InterruptedSend } from '../storage/Storage';
import { PermanentFailure, RetryLater } from '../jobs/jobOutcomes';
import type { SendOutcome } from './sendOutcome';

export type DeliveryResult = SendOutcome | { kind: 'skipped' };

const STATE_OF: Record<SendOutcome['kind'], Exclude<DeliveryState, 'sending'>> = {
  sent: 'sent',
  gone: 'gone',
  retry: 'failed',
  rejected: 'rejected',
  uncertain: 'uncertain',
};

/**
 * What a send whose outcome is unknown (kill -9 during it, or no answer after
 * the request was written) becomes, per channel. Push is sent again: every
 * copy carries the same `Topic` (the push service keeps only the newest
 * undelivered one) and the service worker shows it under the notification's
 * id as tag (a copy replaces the one on screen), so a copy is never a second
 * notification, while giving up could lose the only one. An email or an SMS
 * copy is a second message: those are given up on (at most once).
 */
export const ON_UNKNOWN_OUTCOME: Record<DeliveryChannel, InterruptedSend> = { push: 'resend', email: 'give-up', sms: 'give-up' };

/**
 * "Each version reaches each channel (each device) once": the record is
 * `sending` on disk before `send` starts and says how it ended after. A
 * record found `sent` (or refused for good) is never sent again. One found
 * still `sending` was interrupted (kill -9 during the send) and may have
 * arrived: per ON_UNKNOWN_OUTCOME it is sent again (push) or never again
 * (email, SMS: it becomes `uncertain`). A send known not to have arrived
 * (`retry`) is tried again on every channel.
 */
export async function deliverOnce(
  store: { deliveries: DeliveryStore },
  metrics: Metrics,
  keys: DeliveryKey[],
  attempt: number,
  send: () => Promise<SendOutcome>,
): Promise<DeliveryResult> {
  const channel = keys[0]!.channel;
  const onUnknown = ON_UNKNOWN_OUTCOME[channel];
  const starts = await store.deliveries.begin(keys, attempt, Date.now(), onUnknown);
  const going = keys.filter((_, i) => starts[i] === 'go');
  for (const start of starts) if (start === 'uncertain') metrics.deliveries.inc({ channel, outcome: 'uncertain' });
  if (going.length === 0) return starts.includes('uncertain') ? { kind: 'uncertain', detail: 'an earlier attempt stopped during the send' } : { kind: 'skipped' };
  let outcome: SendOutcome;
  try {
    outcome = await send();
  } catch (error) {
    // A sender reports its peer's answers as outcomes; a throw is a fault of ours, and the send may have begun.
    outcome = { kind: 'uncertain', detail: error instanceof Error ? error.message : String(error) };
  }
  if (outcome.kind === 'uncertain' && onUnknown === 'resend') outcome = { kind: 'retry', detail: `${outcome.detail} (sent again: a copy replaces the first)` };
  await store.deliveries.finish(going, STATE_OF[outcome.kind], outcome.kind === 'sent' ? null : outcome.detail, Date.now());
  metrics.deliveries.inc({ channel, outcome: outcome.kind }, going.length);
  if (outcome.kind === 'sent') metrics.notificationsDelivered.inc({ channel }, going.length);
  else if (outcome.kind !== 'gone') metrics.deliveryFailures.inc({ channel });
  return outcome;
}

/**
 * How a delivery job ends, from its sends: any that may be retried makes the
 * job retry (after the longest Retry-After asked, else with backoff);
 * otherwise a refused one makes it dead (kept, with the reason); an uncertain
 * one is counted and logged, not retried.
 */
export function settle(results: DeliveryResult[]): void {
  const retries = results.filter((r): r is Extract<SendOutcome, { kind: 'retry' }> => r.kind === 'retry');
  if (retries.length > 0) {
    const detail = retries.map((r) => r.detail).join('; ');
    const after = Math.max(...retries.map((r) => r.afterMs ?? -1));
    if (after >= 0) throw new RetryLater(detail, after);
    throw new Error(detail);
  }
  const refused = results.filter((r): r is Extract<SendOutcome, { kind: 'rejected' }> => r.kind === 'rejected');
  if (refused.length > 0) throw new PermanentFailure(refused.map((r) => r.detail).join('; '));
}
