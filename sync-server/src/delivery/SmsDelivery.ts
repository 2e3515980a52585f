import { DEFAULTS, type Notification } from '@parley/schema';
import type { ClaimedJob } from '../jobs/JobRunner';
import type { DeliveryKey } from '../storage/Storage';
import { appLink, type DeliveryDeps } from './DeliveryDeps';
import { deliverOnce, settle } from './deliverOnce';
import { stepVerdict } from './escalation';
import { DeliveryQueues } from './escalationJobs';
import type { SmsProvider } from './SmsProvider';
import { stepData } from './stepData';

/**
 * The SMS step (CONTRACT 7): SMS_AFTER_MS after a version, still current and
 * unread, for a kind whose `sms` channel the user turned on, to a known
 * phone number: one call to the provider, at most once.
 */
export class SmsDelivery {
  constructor(
    private readonly deps: DeliveryDeps,
    private readonly provider: SmsProvider,
  ) {}

  async run(job: ClaimedJob): Promise<void> {
    const step = stepData(job.data);
    const { notification, prefs } = await this.deps.inbox.one(step.userId, step.notificationId);
    const verdict = stepVerdict('sms', step.version, { notification, prefs, online: this.deps.isOnline(step.userId), now: Date.now() });
    if ('skip' in verdict) return void this.deps.metrics.deliverySteps.inc({ channel: 'sms', decision: verdict.skip });
    if ('waitUntil' in verdict) {
      this.deps.metrics.deliverySteps.inc({ channel: 'sms', decision: 'quiet' });
      await this.deps.jobs.enqueue([{ queue: DeliveryQueues.sms, data: step, runAt: verdict.waitUntil, key: `sms:${step.userId}:${step.notificationId}:${step.version}` }]);
      return;
    }
    const phone = (await this.deps.storage.users.contact(step.userId)).phone;
    if (!phone) return void this.deps.metrics.deliverySteps.inc({ channel: 'sms', decision: 'no number' });
    this.deps.metrics.deliverySteps.inc({ channel: 'sms', decision: 'go' });
    const key: DeliveryKey = { ...step, channel: 'sms', target: '-' };
    const message = { id: `${step.notificationId}@${step.version}`, to: phone, text: this.textOf(notification!) };
    settle([await deliverOnce(this.deps.storage, this.deps.metrics, [key], job.attempt, () => this.provider.send(message))]);
  }

  private textOf(n: Notification): string {
    const text = `${n.title}: ${n.body}`;
    const cut = text.length > DEFAULTS.deliveryQuoteMaxChars ? `${text.slice(0, DEFAULTS.deliveryQuoteMaxChars)}…` : text;
    return `${cut} ${appLink(this.deps.publicUrl, n.data.url)}`;
  }
}
