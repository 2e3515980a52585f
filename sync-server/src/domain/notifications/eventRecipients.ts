import type { EventEnvelope, EventType } from '@parley/schema';
import type { EventFacts, EventStore, UserStore } from '../../storage/Storage';

const str = (value: unknown): string | undefined => (typeof value === 'string' && value.length > 0 ? value : undefined);

/** The job an event is about: the subject itself, `data.jobId`, or a link recorded earlier. */
export async function jobOf(event: EventEnvelope, events: EventStore): Promise<string | null> {
  if (event.subject.type === 'job') return event.subject.id;
  return str(event.data?.jobId) ?? (await events.jobOf(event.subject));
}

/**
 * Who is who, learned from an event: a job's owner (the actor of
 * `job.created`), a quote's professional (the actor of `quote.sent`), the
 * professional a `quote.accepted` hires, and which job a quote or payment
 * belongs to. Stored together with the event, only when it is accepted; later
 * events of the same subject find their recipients here.
 */
export function factsOf(event: EventEnvelope, job: string | null, recipients: string[]): EventFacts {
  const facts: EventFacts = { parties: [], links: [] };
  if (job && event.subject.type !== 'job') facts.links.push({ subject: event.subject, jobId: job });
  // Accepting a quote hires its professional for the job: later payments go to them.
  if (event.type === 'quote.accepted' && job) for (const userId of recipients) facts.parties.push({ subject: { type: 'job', id: job }, role: 'hired', userId });
  if (!event.actor) return facts;
  if (event.type === 'job.created') facts.parties.push({ subject: { type: 'job', id: event.subject.id }, role: 'owner', userId: event.actor });
  if (event.type === 'quote.sent') {
    facts.parties.push({ subject: event.subject, role: 'professional', userId: event.actor });
    if (job) facts.parties.push({ subject: { type: 'job', id: job }, role: 'professional', userId: event.actor });
  }
  return facts;
}

async function jobOwners(event: EventEnvelope, events: EventStore): Promise<string[]> {
  const job = await jobOf(event, events);
  return job ? events.parties({ type: 'job', id: job }, 'owner') : [];
}

export async function professionals(event: EventEnvelope, events: EventStore): Promise<string[]> {
  const named = str(event.data?.professionalId);
  if (named) return [named];
  const ofSubject = await events.parties(event.subject, 'professional');
  if (ofSubject.length) return ofSubject;
  const job = await jobOf(event, events);
  return job ? events.parties({ type: 'job', id: job }, 'professional') : [];
}

/**
 * Who an event notifies when it names no recipients. Empty means nobody is
 * known, which the API answers with 400.
 */
export async function defaultRecipients(type: EventType, event: EventEnvelope, deps: { events: EventStore; users: UserStore }): Promise<string[]> {
  const { events, users } = deps;
  switch (type) {
    case 'job.created':
      return [];
    case 'quote.sent':
    case 'job.started':
    case 'job.completed':
      return jobOwners(event, events);
    case 'quote.accepted':
    case 'quote.rejected':
      return professionals(event, events);
    case 'payment.received': {
      const payee = str(event.data?.payeeId);
      if (payee) return [payee];
      const job = await jobOf(event, events);
      return job ? events.parties({ type: 'job', id: job }, 'hired') : [];
    }
    case 'payment.failed': {
      const payer = str(event.data?.payerId);
      return payer ? [payer] : jobOwners(event, events);
    }
    case 'review.created': {
      const reviewee = str(event.data?.revieweeId) ?? str(event.data?.reviewedUserId) ?? str(event.data?.userId);
      return reviewee ? [reviewee] : [];
    }
    case 'system.announcement':
      return users.all();
  }
}
