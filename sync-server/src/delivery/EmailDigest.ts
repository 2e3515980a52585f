import { createHash } from 'node:crypto';
import { DEFAULTS, type Notification, type Prefs } from '@parley/schema';
import type { ClaimedJob } from '../jobs/JobRunner';
import { versionKey, type DeliveryKey } from '../storage/Storage';
import { appLink, type DeliveryDeps } from './DeliveryDeps';
import { deliverOnce, settle } from './deliverOnce';
import { digestMail, type DigestItem } from './digestMail';
import { stepVerdict } from './escalation';
import { quietHoursEnd } from './quietHours';
import { DeliveryQueues } from './escalationJobs';
import type { LinkSigner } from './linkSigner';
import type { Mailer } from './Mailer';
import { digestData, stepData } from './stepData';

export const UNSUBSCRIBE_PURPOSE = 'unsubscribe-email';

export interface EmailTiming {
  afterMs: number;
  intervalMs: number;
}

/**
 * Email digests (CONTRACT 7). The email step of each version (EMAIL_AFTER_MS
 * after it) only asks for its user's digest; the digest, one pending per user
 * (its dedupe key), runs no sooner than EMAIL_DIGEST_INTERVAL_MS after the
 * last one and after the quiet hours, and lists every notification of that
 * user that is unread, due and not yet emailed in this version. Each listed
 * version is recorded `sending` before the SMTP transaction and `sent` after,
 * so none is ever mailed twice (see the README on what SMTP allows).
 */
export class EmailDigest {
  constructor(
    private readonly deps: DeliveryDeps,
    private readonly mailer: Mailer,
    private readonly links: LinkSigner,
    private readonly timing: EmailTiming,
  ) {}

  /** The email step of one version: still worth an email, and the user has an address? Then their digest is due. */
  async step(job: ClaimedJob): Promise<void> {
    const step = stepData(job.data);
    const { notification, prefs } = await this.deps.inbox.one(step.userId, step.notificationId);
    const verdict = stepVerdict('email', step.version, { notification, prefs, online: false, now: Date.now() });
    if (!verdict.go) return void this.deps.metrics.deliverySteps.inc({ channel: 'email', decision: 'skip' in verdict ? verdict.skip : 'quiet' });
    if (!(await this.deps.storage.users.contact(step.userId)).email) return void this.deps.metrics.deliverySteps.inc({ channel: 'email', decision: 'no address' });
    this.deps.metrics.deliverySteps.inc({ channel: 'email', decision: 'go' });
    await this.scheduleDigest(step.userId, Date.now());
  }

  /** One digest for the user: queued no sooner than the interval allows (one pending per user). */
  private async scheduleDigest(userId: string, notBefore: number): Promise<void> {
    const last = await this.deps.storage.deliveries.lastDigestAt(userId);
    const runAt = Math.max(notBefore, last === null ? 0 : last + this.timing.intervalMs);
    await this.deps.jobs.enqueue([{ queue: DeliveryQueues.digest, data: { userId }, runAt, key: `digest:${userId}` }]);
  }

  async digest(job: ClaimedJob): Promise<void> {
    const { userId } = digestData(job.data);
    const now = Date.now();
    const last = await this.deps.storage.deliveries.lastDigestAt(userId);
    if (last !== null && now < last + this.timing.intervalMs) return this.scheduleDigest(userId, now);
    const address = (await this.deps.storage.users.contact(userId)).email;
    if (!address) return;
    const { notifications, prefs } = await this.deps.inbox.all(userId);
    const quiet = quietHoursEnd(prefs.quietHours, now);
    if (quiet !== null) return this.scheduleDigest(userId, quiet);
    const due = await this.dueItems(userId, notifications, prefs, now);
    if (due.length === 0) return;
    const keys: DeliveryKey[] = due.map((n) => ({ userId, notificationId: n.id, version: n.updatedAt, channel: 'email', target: '-' }));
    const mail = await this.compose(userId, address, due);
    const result = await deliverOnce(this.deps.storage, this.deps.metrics, keys, job.attempt, async () => {
      // Counted from the start of the attempt: a digest that dies mid-send still spends the interval.
      await this.deps.storage.deliveries.recordDigest(userId, now);
      return this.mailer.send(mail);
    });
    settle([result]);
  }

  /** Unread, current, EMAIL_AFTER_MS old, email on, not muted, not mailed in this version: oldest first, at most a digest's worth. */
  private async dueItems(userId: string, notifications: Notification[], prefs: Prefs, now: number): Promise<Notification[]> {
    const candidates = notifications.filter(
      (n) => n.updatedAt + this.timing.afterMs <= now && stepVerdict('email', n.updatedAt, { notification: n, prefs, online: false, now }).go,
    );
    const emailed = await this.deps.storage.deliveries.emailed(userId, candidates.map((n) => ({ notificationId: n.id, version: n.updatedAt })));
    return candidates
      .filter((n) => !emailed.has(versionKey(n.id, n.updatedAt)))
      .sort((a, b) => a.updatedAt - b.updatedAt)
      .slice(0, DEFAULTS.emailDigestMaxItems);
  }

  private async compose(userId: string, address: string, due: Notification[]) {
    const senders = [...new Set(due.map((n) => n.data.actor).filter((a): a is string => typeof a === 'string'))];
    const names = new Map((await this.deps.storage.users.get(senders)).map((u) => [u.id, u.name ?? u.id]));
    const titles = new Map<string, string>();
    for (const n of due) {
      const conversationId = n.data.conversationId;
      if (typeof conversationId === 'string' && !titles.has(conversationId)) titles.set(conversationId, (await this.deps.storage.conversations.get(conversationId))?.title ?? '');
    }
    const items: DigestItem[] = due.map((n) => ({
      title: n.title,
      conversation: typeof n.data.conversationId === 'string' ? titles.get(n.data.conversationId) || null : null,
      sender: typeof n.data.actor === 'string' ? (names.get(n.data.actor) ?? n.data.actor) : null,
      text: n.body,
      count: n.count,
      link: appLink(this.deps.publicUrl, n.data.url),
    }));
    const unsubscribeUrl = `${this.deps.publicUrl}/api/email/unsubscribe/${this.links.sign(UNSUBSCRIBE_PURPOSE, userId)}`;
    const content = digestMail(items, `${this.deps.publicUrl}/`, unsubscribeUrl);
    const digestId = createHash('sha256').update(`${userId}\n${due.map((n) => versionKey(n.id, n.updatedAt)).join('\n')}`).digest('hex').slice(0, 32);
    const host = new URL(this.deps.publicUrl).hostname || 'localhost';
    return {
      to: address,
      ...content,
      headers: { 'List-Unsubscribe': `<${unsubscribeUrl}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
      messageId: `<digest-${digestId}@${host}>`,
    };
  }
}
