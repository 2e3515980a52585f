import type { ClaimedJob } from '../jobs/JobRunner';
import type { DeliveryKey, PushSubscription } from '../storage/Storage';
import type { Notification } from '@parley/schema';
import { appLink, type DeliveryDeps } from './DeliveryDeps';
import { deliverOnce, settle } from './deliverOnce';
import { stepVerdict } from './escalation';
import { DeliveryQueues } from './escalationJobs';
import { fitPayload, topicOf, type PushSender, type Urgency } from './PushSender';
import { stepData } from './stepData';

const URGENT_KINDS = new Set(['mention', 'payment_failed', 'payment_received']);

/**
 * The push step (CONTRACT 7): PUSH_AFTER_MS after a version, if it is still
 * the current one, unread, and its user offline, one Web Push message per
 * subscription, each at most once. A 404 or 410 removes that subscription.
 */
export class PushDelivery {
  constructor(
    private readonly deps: DeliveryDeps,
    private readonly sender: PushSender,
  ) {}

  async run(job: ClaimedJob): Promise<void> {
    const step = stepData(job.data);
    const { notification, prefs } = await this.deps.inbox.one(step.userId, step.notificationId);
    const now = Date.now();
    const verdict = stepVerdict('push', step.version, { notification, prefs, online: this.deps.isOnline(step.userId), now });
    if ('skip' in verdict) return void this.deps.metrics.deliverySteps.inc({ channel: 'push', decision: verdict.skip });
    if ('waitUntil' in verdict) {
      this.deps.metrics.deliverySteps.inc({ channel: 'push', decision: 'quiet' });
      await this.deps.jobs.enqueue([{ queue: DeliveryQueues.push, data: step, runAt: verdict.waitUntil, key: `push:${step.userId}:${step.notificationId}:${step.version}` }]);
      return;
    }
    this.deps.metrics.deliverySteps.inc({ channel: 'push', decision: 'go' });
    const subscriptions = await this.deps.storage.push.list(step.userId);
    const payload = fitPayload(this.payloadOf(notification!));
    const options = { topic: topicOf(step.userId, step.notificationId), urgency: (URGENT_KINDS.has(notification!.kind) ? 'high' : 'normal') as Urgency };
    const results = await Promise.all(
      subscriptions.map(async (subscription) => {
        const key: DeliveryKey = { ...step, channel: 'push', target: subscription.endpoint };
        const result = await deliverOnce(this.deps.storage, this.deps.metrics, [key], job.attempt, () => this.sender.send(subscription, payload, options));
        if (result.kind === 'gone') await this.forget(step.userId, subscription, result.detail);
        return result;
      }),
    );
    settle(results);
  }

  private payloadOf(n: Notification) {
    return { id: n.id, kind: n.kind, title: n.title, body: n.body, url: appLink(this.deps.publicUrl, n.data.url), ...(n.count > 1 ? { count: n.count } : {}) };
  }

  private async forget(userId: string, subscription: PushSubscription, detail: string): Promise<void> {
    await this.deps.storage.push.remove(userId, subscription.endpoint);
    this.deps.logger.info({ userId, detail }, 'the push service no longer knows a subscription: removed');
  }
}
