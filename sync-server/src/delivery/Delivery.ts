import type { Document } from '@hocuspocus/server';
import type * as Y from 'yjs';
import { DEFAULTS } from '@parley/schema';
import type { DeliveryConfig } from '../config';
import type { NewJob } from '../storage/Storage';
import type { DeliveryDeps } from './DeliveryDeps';
import { DeliveryQueues, escalationJobs, type Escalation } from './escalationJobs';
import { PushDelivery } from './PushDelivery';
import { PushSender } from './PushSender';
import { EmailDigest, UNSUBSCRIBE_PURPOSE } from './EmailDigest';
import { Mailer } from './Mailer';
import { DigestSweep } from './DigestSweep';
import { LinkSigner } from './linkSigner';
import { turnEmailOff } from './EmailOptOut';
import type { ServerWriter } from '../sync/ServerWriter';
import { SmsDelivery } from './SmsDelivery';
import { WebhookSmsProvider } from './WebhookSmsProvider';

/**
 * Delivery beyond the app (CONTRACT 7), on the durable job queue: the
 * escalation steps a notification version causes (escalationJobs, stored
 * with the inbox write) and the queues that run them. A channel whose peer is
 * not configured (no VAPID keys, no SMTP_URL, no SMS webhook) adds no jobs.
 */
export class Delivery {
  readonly escalation: Escalation;
  readonly vapidPublicKey: string | null;

  private readonly links: LinkSigner;
  private readonly mailer: Mailer | null = null;

  constructor(
    private readonly deps: DeliveryDeps,
    config: DeliveryConfig,
    private readonly writer: ServerWriter,
    dataDir: string,
  ) {
    this.vapidPublicKey = config.vapid?.publicKey ?? null;
    this.links = LinkSigner.inDataDir(dataDir);
    this.escalation = {
      push: config.vapid ? config.pushAfterMs : null,
      email: config.smtpUrl ? config.emailAfterMs : null,
      sms: config.smsWebhook ? config.smsAfterMs : null,
    };
    const queue = { concurrency: DEFAULTS.deliveryConcurrency, maxAttempts: DEFAULTS.deliveryMaxAttempts };
    if (config.vapid) {
      const push = new PushDelivery(deps, new PushSender(config.vapid, config.vapidSubject, config.requestTimeoutMs));
      deps.jobs.define(DeliveryQueues.push, (job) => push.run(job), queue);
    }
    if (config.smtpUrl) {
      this.mailer = new Mailer(config.smtpUrl, config.emailFrom);
      const email = new EmailDigest(deps, this.mailer, this.links, { afterMs: config.emailAfterMs, intervalMs: config.emailDigestIntervalMs });
      deps.jobs.define(DeliveryQueues.email, (job) => email.step(job), queue);
      deps.jobs.define(DeliveryQueues.digest, (job) => email.digest(job), queue);
      new DigestSweep(deps, config.digestSweepMs);
    }
    if (config.smsWebhook) {
      const sms = new SmsDelivery(deps, new WebhookSmsProvider(config.smsWebhook.url, config.smsWebhook.secret, config.requestTimeoutMs));
      deps.jobs.define(DeliveryQueues.sms, (job) => sms.run(job), queue);
    }
  }

  /** The one-click unsubscribe: whose signed link this is (null: not one of ours), and email off for them. */
  async unsubscribe(token: string): Promise<string | null> {
    const userId = this.links.verify(UNSUBSCRIBE_PURPOSE, token);
    if (userId !== null) await turnEmailOff(this.writer, userId);
    return userId;
  }

  /** Lets go of the SMTP connections (after the job runner stopped). */
  close(): void {
    this.mailer?.close();
  }

  /** The delivery steps of the notification versions a change of `inbox:<userId>` made. */
  inboxJobs(userId: string, document: Document, transaction: Y.Transaction): NewJob[] {
    return escalationJobs(userId, document, transaction, this.escalation, Date.now());
  }
}
