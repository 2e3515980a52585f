import { createHash } from 'node:crypto';
import webpush from 'web-push';
import { DEFAULTS } from '@parley/schema';
import type { PushSubscription } from '../storage/Storage';
import type { VapidKeys } from './vapidKeys';
import { boundedRequest, PeerUnreachable } from './boundedRequest';
import { outcomeOfStatus, type SendOutcome } from './sendOutcome';

/** CONTRACT 7's push payload. */
export interface PushPayload {
  id: string;
  kind: string;
  title: string;
  body: string;
  url: string;
  count?: number;
}

export type Urgency = 'very-low' | 'low' | 'normal' | 'high';

/** RFC 8030 Topic: 1-32 base64url characters, the same for every version of a notification, so a newer one replaces an undelivered older one. */
export const topicOf = (userId: string, notificationId: string): string =>
  createHash('sha256').update(`${userId}\n${notificationId}`).digest('base64url').slice(0, 32);

/** Cuts the body until the payload fits DEFAULTS.pushPayloadMaxBytes (Web Push carries about 4 KiB). */
export function fitPayload(payload: PushPayload): string {
  let json = JSON.stringify(payload);
  let body = payload.body;
  while (Buffer.byteLength(json) > DEFAULTS.pushPayloadMaxBytes && body.length > 0) {
    body = body.slice(0, Math.floor(body.length * 0.8));
    json = JSON.stringify({ ...payload, body: `${body}…` });
  }
  return json;
}

/**
 * Sends one Web Push message: `web-push` builds it (RFC 8291 aes128gcm,
 * RFC 8292 VAPID, TTL, Urgency, Topic) and boundedRequest carries it, so a
 * slow or hostile push service costs a bounded time and never a redirect.
 */
export class PushSender {
  constructor(
    private readonly vapid: VapidKeys,
    private readonly subject: string,
    private readonly timeoutMs: number = DEFAULTS.deliveryRequestTimeoutMs,
  ) {}

  get publicKey(): string {
    return this.vapid.publicKey;
  }

  async send(subscription: PushSubscription, payload: string, options: { topic: string; urgency: Urgency }): Promise<SendOutcome> {
    let details: ReturnType<typeof webpush.generateRequestDetails>;
    try {
      details = webpush.generateRequestDetails(subscription, payload, {
        vapidDetails: { subject: this.subject, publicKey: this.vapid.publicKey, privateKey: this.vapid.privateKey },
        TTL: DEFAULTS.pushTtlSeconds,
        urgency: options.urgency,
        topic: options.topic,
        contentEncoding: 'aes128gcm',
      });
    } catch (error) {
      return { kind: 'rejected', detail: `the subscription's keys do not encrypt: ${error instanceof Error ? error.message : String(error)}` };
    }
    try {
      const answer = await boundedRequest({
        method: 'POST',
        url: details.endpoint,
        headers: details.headers as Record<string, string | number>,
        body: details.body as Buffer,
        timeoutMs: this.timeoutMs,
      });
      return outcomeOfStatus(answer.status, headerText(answer.headers['retry-after']), answer.body, [404, 410]);
    } catch (error) {
      if (error instanceof PeerUnreachable && error.written) return { kind: 'uncertain', detail: `${error.message} after the message was sent: it may have arrived` };
      return { kind: 'retry', detail: error instanceof Error ? error.message : String(error) };
    }
  }
}

export const headerText = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value[0] : value);
