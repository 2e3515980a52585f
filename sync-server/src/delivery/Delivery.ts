import type { Document } from '@hocuspocus/server';
import type * as Y from 'yjs';
import { DEFAULTS } from '@parley/schema';
import type { DeliveryConfig } from '../config';
import type { NewJob } from '../storage/Storage';
import type { DeliveryDeps } from './DeliveryDeps';
import { DeliveryQueues, escalationJobs, type Escalation } from './escalationJobs';
import { PushDelivery } from './PushDelivery';
import { PushSender } from './PushSender';

/**
 * Delivery beyond the app (CONTRACT 7), on the durable job queue: the
 * escalation steps a notification version causes (escalationJobs, stored
 * with the inbox write) and the queues that run them. A channel whose peer is
 * not configured (no VAPID keys, no SMTP_URL, no SMS webhook) adds no jobs.
 */
export class Delivery {
  readonly escalation: Escalation;
  readonly vapidPublicKey: string | null;

  constructor(
    private readonly deps: DeliveryDeps,
    config: DeliveryConfig,
  ) {
    this.vapidPublicKey = config.vapid?.publicKey ?? null;
    this.escalation = {
      push: config.vapid ? config.pushAfterMs : null,
      email: null,
      sms: null,
    };
    const queue = { concurrency: DEFAULTS.deliveryConcurrency, maxAttempts: DEFAULTS.deliveryMaxAttempts };
    if (config.vapid) {
      const push = new PushDelivery(deps, new PushSender(config.vapid, config.vapidSubject, config.requestTimeoutMs));
      deps.jobs.define(DeliveryQueues.push, (job) => push.run(job), queue);
    }
  }

  /** The delivery steps of the notification versions a change of `inbox:<userId>` made. */
  inboxJobs(userId: string, document: Document, transaction: Y.Transaction): NewJob[] {
    return escalationJobs(userId, document, transaction, this.escalation, Date.now());
  }
}
