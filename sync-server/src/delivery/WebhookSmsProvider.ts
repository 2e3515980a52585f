import { createHmac } from 'node:crypto';
import { DEFAULTS } from '@parley/schema';
import { boundedRequest, PeerUnreachable } from './boundedRequest';
import { headerText } from './PushSender';
import { outcomeOfStatus, type SendOutcome } from './sendOutcome';
import type { SmsMessage, SmsProvider } from './SmsProvider';

/** CONTRACT 7: `X-Parley-Signature: sha256=<hex HMAC-SHA256 of the raw body>`. */
export const signatureOf = (secret: string, body: string): string => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

/** SMS through the provider's webhook: POST `{id, to, text}` as JSON, signed. */
export class WebhookSmsProvider implements SmsProvider {
  constructor(
    private readonly url: string,
    private readonly secret: string,
    private readonly timeoutMs: number = DEFAULTS.deliveryRequestTimeoutMs,
  ) {}

  async send(message: SmsMessage): Promise<SendOutcome> {
    const body = JSON.stringify({ id: message.id, to: message.to, text: message.text });
    try {
      const answer = await boundedRequest({
        method: 'POST',
        url: this.url,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-parley-signature': signatureOf(this.secret, body) },
        body,
        timeoutMs: this.timeoutMs,
      });
      return outcomeOfStatus(answer.status, headerText(answer.headers['retry-after']), answer.body);
    } catch (error) {
      if (error instanceof PeerUnreachable && error.written) return { kind: 'uncertain', detail: `${error.message} after the request was sent: it may have arrived, so it is not sent again` };
      return { kind: 'retry', detail: error instanceof Error ? error.message : String(error) };
    }
  }
}
