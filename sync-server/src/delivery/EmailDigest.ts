import { createHash } from 'node:crypto';
import { DEFAULTS, type Notification, type Prefs } from '@parley/schema';
import type { ClaimedJob } from '../jobs/JobRunner';
import { versionKey, type DeliveryKey } from '../storage/Storage';
import { appLink, type DeliveryDeps } from './DeliveryDeps';
import { deliverOnce, settle } from './deliverOnce';
import { digestMail, type DigestItem } from './digestMail';
import { stepVerdict } from './escalation';
import { quietHoursEnd } from './quietHours';
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
 * after it) only marks its user's digest due (`email_digest_due`), no sooner
 * than EMAIL_DIGEST_INTERVAL_MS after the last one; the recurring sweep
 * (DigestSweep) queues a digest job per due user. The digest waits out the
 * interval and the quiet hours (due again later), and lists every
 * notification of that user that is unread, due and not yet emailed in this
 * version. Each listed version is recorded `sending` before the SMTP
 * transaction and `sent` after, so none is ever mailed twice (see the README
 * on what SMTP allows).
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
    const now = Date.now();
    await this.deps.storage.deliveries.markDigestDue(step.userId, await this.notBefore(step.userId, now), now);
  }

  /** The earliest a digest may go: now, or EMAIL_DIGEST_INTERVAL_MS after the last one. */
  private async notBefore(userId: string, now: number): Promise<number> {
    const last = await this.deps.storage.deliveries.lastDigestAt(userId);
    return Math.max(now, last === null ? 0 : last + this.timing.intervalMs);
  }

  /** One user's digest (queued by the sweep): sent, or due again later; either way the due row is settled. */
  async digest(job: ClaimedJob): Promise<void> {
    const { userId } = digestData(job.data);
    const startedAt = Date.now();
    const deliveries = this.deps.storage.deliveries;
    const notBefore = await this.notBefore(userId, startedAt);
    if (notBefore > startedAt) return deliveries.deferDigest(userId, notBefore);
    const address = (await this.deps.storage.users.contact(userId)).email;
    if (!address) return deliveries.clearDigest(userId, startedAt);
    const { notifications, prefs } = await this.deps.inbox.all(userId);
    const quiet = quietHoursEnd(prefs.quietHours, startedAt);
    if (quiet !== null) return deliveries.deferDigest(userId, quiet);
    const due = await this.dueItems(userId, notifications, prefs, startedAt);
    if (due.length === 0) return deliveries.clearDigest(userId, startedAt);
    const keys: DeliveryKey[] = due.map((n) => ({ userId, notificationId: n.id, version: n.updatedAt, channel: 'email', target: '-' }));
    const mail = await this.compose(userId, address, due);
    const result = await deliverOnce(this.deps.storage, this.deps.metrics, keys, job.attempt, async () => {
      // Counted from the start of the attempt: a digest that dies mid-send still spends the interval.
      await deliveries.recordDigest(userId, startedAt);
      return this.mailer.send(mail);
    });
    settle([result]);
    // A full digest may have left older ones out: they go in the next, one interval later.
    if (due.length === DEFAULTS.emailDigestMaxItems) await deliveries.deferDigest(userId, startedAt + this.timing.intervalMs);
    else await deliveries.clearDigest(userId, startedAt);
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
