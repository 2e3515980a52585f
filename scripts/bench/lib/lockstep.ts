/**
 * The A -> B driver of the per-message benchmarks (cpu-per-message.ts,
 * instructions.ts): A sends one message, waits for both its acknowledgement
 * and its delivery to B, then sends the next. It follows Parley's renewals
 * (CONTRACT-NOTES "Bounded live document", point 4) the way a third-party
 * client must: on `document-renewed` A opens the document again with a fresh
 * replica and posts the message again only if the server does not hold it;
 * B's subscriber reopens by itself (targets.ts). Before, a run past
 * 2 x DEFAULTS.liveWindowMessages stalled at the renewal.
 */
import { isDocumentRenewal } from '@parley/schema';
import { withTimeout, type ChatClient } from './client';
import type { Subscriber, Target } from './targets';

export interface Lockstep {
  /** Sends one message; resolves once it is acknowledged and delivered. The error says which half is missing. */
  send(id: string, text: string, timeoutMs: number): Promise<void>;
  /** Renewals the sender followed. */
  renewals(): number;
  close(): void;
}

interface Sender {
  client: ChatClient;
  /** Resolves when the server closes this replica's document with `document-renewed`. */
  renewed: Promise<'renewed'>;
}

export async function openLockstep(target: Target, conversation: string, users: { sender: string; receiver: string }, pattern: RegExp, connectTimeoutMs: number): Promise<Lockstep> {
  const connectSender = async (): Promise<Sender> => {
    let renew = (): void => {};
    const renewed = new Promise<'renewed'>((done) => (renew = () => done('renewed')));
    const client = await target.connect(users.sender, conversation, { awareness: true, timeoutMs: connectTimeoutMs, onClose: (event) => isDocumentRenewal(event) && renew() });
    return { client, renewed };
  };
  let sender = await connectSender();
  const receiver: Subscriber = await target.subscribe(users.receiver, conversation, connectTimeoutMs, pattern);
  let renewals = 0;
  let current = '';
  let wake = (): void => {};
  receiver.onIds = (ids) => void (ids.includes(current) && wake());

  /** Resolves once the server holds the message (acknowledged, or found after a renewal). */
  const post = async (id: string, text: string): Promise<void> => {
    for (;;) {
      const outcome = await Promise.race([sender.client.send(id, text).then(() => 'acked' as const), sender.renewed]);
      if (outcome === 'acked') return;
      // Renewed: what was in flight is not stored (or was, its acknowledgement lost with the document).
      renewals++;
      sender.client.close();
      sender = await connectSender();
      if (sender.client.latest(sender.client.count()).some((message) => message.id === id)) return;
      if (await target.holdsMessage(conversation, users.sender, id)) return;
    }
  };

  return {
    async send(id, text, timeoutMs) {
      current = id;
      const delivered = new Promise<void>((done) => (wake = done));
      const state = { acked: false, delivered: false };
      void delivered.then(() => (state.delivered = true));
      const acked = post(id, text).then(() => void (state.acked = true));
      await withTimeout(Promise.all([acked, delivered]), timeoutMs, `message ${id}`).catch((error: unknown) => {
        const receiverState = receiver.lost() ?? `receiving (${receiver.renewals()} renewals followed)`;
        throw new Error(`${String(error)} (acknowledged: ${state.acked}, delivered: ${state.delivered}, sender synced: ${sender.client.isSynced()}, sender renewals: ${renewals}, receiver: ${receiverState})`);
      });
    },
    renewals: () => renewals,
    close() {
      sender.client.close();
      receiver.close();
    },
  };
}
