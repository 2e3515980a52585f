import type { SendOutcome } from './sendOutcome';

/** One text message: `id` is stable per notification version, so a provider can tell a copy from a new message. */
export interface SmsMessage {
  id: string;
  to: string;
  text: string;
}

/** Where SMS go. The first provider is the contract's signed webhook (WebhookSmsProvider). */
export interface SmsProvider {
  send(message: SmsMessage): Promise<SendOutcome>;
}
