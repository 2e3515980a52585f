import { DEFAULTS, channelsFor, inboxDocName, readPrefs } from '@parley/schema';
import type { Logger } from '../../logger';
import type { Metrics } from '../../metrics';
import type { NewJob, Storage } from '../../storage/Storage';
import type { ClaimedJob, JobRunner } from '../../jobs/JobRunner';
import { PermanentFailure } from '../../jobs/jobOutcomes';
import type { ServerWriter } from '../../sync/ServerWriter';
import { inTurns } from '../inTurns';
import { addNotification } from './inboxWrites';
import { mentionNotificationId } from './quotingNotifications';
import { render } from './templates';

/** The job queue that turns a message's mentions into notifications. */
export const MENTION_QUEUE = 'mention.notify';


/**
 * `mention` notifications (CONTRACT section 3: each mentioned member gets one,
 * even in a conversation they muted). An update that sets a message's
 * `mentions` (a new message, or an edit) is stored together with a
 * `mention.notify` job (PersistenceExtension), so a crash after the
 * acknowledgement still notifies; the job reads the message as the index has
 * it now and writes one notification per member mentioned, except the author,
 * members who left since, members who block the author, and members who
 * turned the `mention` kind off in-app. A muted conversation does not hold
 * mentions back. Notifications are keyed by message and member, so running
 * twice changes nothing.
 */
export class MentionNotifier {
  constructor(private readonly deps: { storage: Storage; writer: ServerWriter; metrics: Metrics; logger: Logger; jobs: JobRunner }) {
    deps.jobs.define(MENTION_QUEUE, (job) => this.run(job));
  }

  /** The jobs for messages whose mentions an update set (stored with the update). */
  jobsFor(conversationId: string, messageIds: string[]): NewJob[] {
    return messageIds.map((messageId) => ({ queue: MENTION_QUEUE, data: { conversationId, messageId }, key: `${conversationId}\n${messageId}` }));
  }

  /** Wakes the queue once the jobs are stored. */
  stored(): void {
    this.deps.jobs.kick(MENTION_QUEUE);
  }

  private async run(job: ClaimedJob): Promise<void> {
    const data = job.data as { conversationId?: unknown; messageId?: unknown } | null;
    if (typeof data?.conversationId !== 'string' || typeof data.messageId !== 'string') throw new PermanentFailure('a mention.notify job without conversationId and messageId');
    await this.notify(data.conversationId, data.messageId);
  }

  async notify(conversationId: string, messageId: string): Promise<void> {
    const { storage } = this.deps;
    const message = await storage.messages.get(conversationId, messageId);
    // Deleted since (its mentions were emptied with it) or unknown: nobody to tell.
    if (!message || message.deletedAt !== undefined || !message.mentions?.length) return;
    const record = await storage.conversations.get(conversationId);
    if (!record) return;
    const members = new Set((await storage.conversations.members(conversationId)).map((m) => m.userId));
    const candidates = message.mentions.filter((userId) => userId !== message.author && members.has(userId));
    const blockers = new Set(await storage.blocks.blockersOf(message.author, candidates));
    const recipients = candidates.filter((userId) => !blockers.has(userId));
    if (recipients.length === 0) return;
    const author = (await storage.users.get([message.author]))[0];
    const { title, body } = render(record.kind === 'direct' ? 'mention.direct' : 'mention', { actor: author?.name ?? message.author, conversation: record.title, text: message.text });
    const notification = { kind: 'mention', title, body, data: { conversationId, actor: message.author, messageId, url: `/c/${conversationId}` } };
    await inTurns(recipients, DEFAULTS.eventInboxesPerTurn, async (userId) => {
      const created = await this.deps.writer.write(inboxDocName(userId), (inbox) => {
        if (!channelsFor(readPrefs(inbox), 'mention').inApp) return false;
        return addNotification(inbox, { id: mentionNotificationId(conversationId, messageId, userId), ...notification }, Date.now());
      });
      if (created) {
        this.deps.metrics.notificationsCreated.inc({ kind: 'mention' });
        this.deps.metrics.notificationsDelivered.inc({ channel: 'inApp' });
      }
    });
  }
}
