import { DEFAULTS, EventEnvelope, EventKinds, inboxDocName, isEventType, isId, jobConversationId, readPrefs, channelsFor, type EventType } from '@parley/schema';
import { ApiError } from '../../http/ApiError';
import type { Logger } from '../../logger';
import type { Metrics } from '../../metrics';
import type { Storage, StoredEvent } from '../../storage/Storage';
import type { ClaimedJob, JobRunner } from '../../jobs/JobRunner';
import { PermanentFailure } from '../../jobs/jobOutcomes';
import type { ServerWriter } from '../../sync/ServerWriter';
import type { Conversations } from '../Conversations';
import { defaultRecipients, factsOf, jobOf } from './eventRecipients';
import { addNotification } from './inboxWrites';
import { inTurns } from '../inTurns';
import { render } from './templates';

/** The identity the server uses when an event creates or changes a conversation. */
const EVENTS_IDENTITY = { userId: 'parley-events', name: 'Parley', roles: ['service'] as const, expiresAt: Number.MAX_SAFE_INTEGER };

/** The job queue that applies accepted events. */
export const EVENT_APPLY_QUEUE = 'event.apply';

/**
 * Business events in two steps. `accept` checks the envelope, works out the
 * recipients, and stores the event with an `event.apply` job in one
 * transaction before the HTTP answer. The job applies it (conversations,
 * members, notifications) and marks it applied; the queue retries it on its
 * own clock and keeps it as a dead job when it never applies. Every effect is
 * idempotent, so a crash anywhere means "apply again", never twice.
 */
export class EventProcessor {
  constructor(private readonly deps: { storage: Storage; writer: ServerWriter; conversations: Conversations; metrics: Metrics; logger: Logger; jobs: JobRunner }) {
    deps.jobs.define(EVENT_APPLY_QUEUE, (job) => this.applyJob(job), {
      maxAttempts: DEFAULTS.eventApplyMaxAttempts,
      concurrency: DEFAULTS.eventApplyConcurrency,
    });
  }

  async accept(event: EventEnvelope): Promise<{ duplicate: boolean }> {
    if (!isEventType(event.type)) throw new ApiError(400, 'unknown_event_type', `unknown event type ${event.type}`);
    const { storage } = this.deps;
    // A duplicate changes nothing, whatever else it says (another actor, other recipients).
    if (await storage.events.has(event.id)) return { duplicate: true };
    const recipients = event.recipients ?? (await defaultRecipients(event.type, event, { events: storage.events, users: storage.users }));
    const unique = [...new Set(recipients)].filter(isId);
    if (unique.length === 0 && event.type !== 'system.announcement') {
      throw ApiError.badRequest(`no recipients: give "recipients", or post an earlier event that names who is involved in ${event.subject.type} ${event.subject.id}`);
    }
    // Only an accepted event teaches who is who: what it learned is stored with it, in one transaction.
    const facts = factsOf(event, await jobOf(event, storage.events), unique);
    const job = { queue: EVENT_APPLY_QUEUE, data: { eventId: event.id }, key: `event:${event.id}` };
    const inserted = await storage.events.insert({ id: event.id, type: event.type, body: JSON.stringify(event), recipients: unique, receivedAt: Date.now() }, facts, [job]);
    if (inserted) {
      // A service names real users: they count as known (announcements reach them). Everyone is known already when none were named.
      if (event.recipients) await inTurns(unique, DEFAULTS.eventInboxesPerTurn, (userId) => storage.users.remember(userId));
      this.deps.jobs.kick(EVENT_APPLY_QUEUE);
    }
    return { duplicate: !inserted };
  }

  private async applyJob(job: ClaimedJob): Promise<void> {
    const eventId = (job.data as { eventId?: unknown } | null)?.eventId;
    if (typeof eventId !== 'string') throw new PermanentFailure('an event.apply job without an eventId');
    const stored = await this.deps.storage.events.get(eventId);
    // Pruned (applied long ago) or applied by an earlier attempt that died before recording it done.
    if (!stored || stored.appliedAt !== null) return;
    try {
      await this.apply(stored);
    } catch (error) {
      this.deps.metrics.deliveryFailures.inc({ channel: 'inApp' });
      throw error;
    }
    await this.deps.storage.events.markApplied(stored.id, Date.now());
  }

  private async apply(stored: StoredEvent): Promise<void> {
    const event = EventEnvelope.parse(JSON.parse(stored.body));
    const type = event.type as EventType;
    const jobId = await jobOf(event, this.deps.storage.events);
    const conversationId = jobId ? jobConversationId(jobId) : undefined;
    if (type === 'job.created') await this.createJobConversation(event);
    if (type === 'quote.accepted' && jobId) await this.addToJobConversation(jobId, stored.recipients, event);
    const kind = EventKinds[type];
    const actorName = event.actor ? await this.displayName(event.actor) : undefined;
    const { title, body } = render(kind, { actor: actorName, subject: event.subject, data: event.data });
    // Only the job's own room is linked: a room of another kind at that id is no place to send anyone.
    const hasConversation = jobId !== null && (await this.deps.conversations.isJobConversation(jobId));
    const data = {
      entity: event.subject,
      ...(event.actor && { actor: event.actor }),
      ...(hasConversation && { conversationId, url: `/c/${conversationId}` }),
      eventId: event.id,
      eventType: type,
    };
    // An announcement may go to every known user: in turns, so the server keeps answering meanwhile.
    await inTurns(stored.recipients, DEFAULTS.eventInboxesPerTurn, async (userId) => {
      const now = Date.now();
      const added = await this.deps.writer.write(inboxDocName(userId), (inbox) => {
        if (!channelsFor(readPrefs(inbox), kind).inApp) return false;
        return addNotification(inbox, { id: `evt:${event.id}`, kind, title, body, data }, now);
      });
      if (added) {
        this.deps.metrics.notificationsCreated.inc({ kind });
        this.deps.metrics.notificationsDelivered.inc({ channel: 'inApp' });
      }
    });
  }

  private async createJobConversation(event: EventEnvelope): Promise<void> {
    if (!event.actor) return;
    const title = typeof event.data?.title === 'string' ? event.data.title.slice(0, DEFAULTS.titleMaxLength) : `Job ${event.subject.id}`;
    await this.deps.conversations.openJobConversation(event.subject.id, event.actor, title);
  }

  private async addToJobConversation(jobId: string, professionals: string[], event: EventEnvelope): Promise<void> {
    const { conversations, storage } = this.deps;
    if (!(await conversations.isJobConversation(jobId))) {
      const owner = (await storage.events.parties({ type: 'job', id: jobId }, 'owner'))[0] ?? event.actor;
      if (!owner) return;
      await conversations.openJobConversation(jobId, owner, `Job ${jobId}`);
    }
    for (const userId of professionals) await conversations.addMember(EVENTS_IDENTITY, jobConversationId(jobId), userId);
  }

  private async displayName(userId: string): Promise<string> {
    const [user] = await this.deps.storage.users.get([userId]);
    return user?.name ?? userId;
  }
}
