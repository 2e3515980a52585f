import { z } from 'zod';
import { EntityRef } from './conversation';
import { DEFAULTS } from './defaults';
import { DerivedIdPrefix, Id, isId, isJobId } from './ids';

/** Built-in business event types, and the notification kind each one produces. */
export const EventKinds = {
  'job.created': 'new_job',
  'quote.sent': 'new_quote',
  'quote.accepted': 'quote_accepted',
  'quote.rejected': 'quote_rejected',
  'job.started': 'job_started',
  'job.completed': 'job_completed',
  'payment.received': 'payment_received',
  'payment.failed': 'payment_failed',
  'review.created': 'new_review',
  'system.announcement': 'system',
} as const;
export type EventType = keyof typeof EventKinds;
export const EventTypes = Object.keys(EventKinds) as EventType[];

/** Every notification kind, including chat. Preferences are keyed by these. */
export const NotificationKinds = ['new_message', ...Object.values(EventKinds), 'mention', 'report_handled'] as const;

/**
 * ISO 8601 (a date, or a date-time with or without offset) or a ms epoch, from
 * 1970 up to `eventOccurredAtMaxAheadMs` ahead of this clock: anything accepted
 * is stored as a ms epoch that parses again when the event is applied.
 */
const occurredAt = z
  .union([
    z
      .string()
      .max(64)
      .regex(/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/, 'must be an ISO 8601 timestamp')
      .refine((s) => !Number.isNaN(Date.parse(s)), 'must be an ISO 8601 timestamp')
      .transform((s) => Date.parse(s)),
    z.number().int(),
  ])
  .refine((ms) => ms >= 0, 'must not be before 1970')
  .refine((ms) => ms <= Date.now() + DEFAULTS.eventOccurredAtMaxAheadMs, `must be at most ${DEFAULTS.eventOccurredAtMaxAheadMs / 3600_000} h ahead of the server's clock`);

/**
 * Fields of `data` the server reads as user ids (recipients found without
 * `recipients`), and the one it reads as a job id (which names the job's
 * conversation). Checked at the edge like every other id, so no stored key or
 * conversation id is ever made of whatever a service sent.
 */
export const EventDataUserIdFields = ['professionalId', 'payeeId', 'payerId', 'revieweeId', 'reviewedUserId', 'userId'] as const;
export const EventDataJobIdField = 'jobId';

/** The envelope of `POST /api/events`. `type` is checked separately so an unknown one gets its own error. */
export const EventEnvelope = z
  .strictObject({
    id: z.string().min(1).max(128).regex(/^[A-Za-z0-9_.:-]+$/, 'must be 1-128 of [A-Za-z0-9_.:-]'),
    type: z.string().min(1).max(64),
    occurredAt,
    actor: Id.optional(),
    subject: EntityRef,
    recipients: z.array(Id).max(DEFAULTS.eventRecipientsMax).optional(),
    data: z.record(z.string(), z.unknown()).optional(),
  })
  .superRefine((event, ctx) => {
    if (event.subject.type === 'job' && !isJobId(event.subject.id)) ctx.addIssue({ code: 'custom', path: ['subject', 'id'], message: JOB_ID_MESSAGE });
    const data = event.data ?? {};
    if (Object.hasOwn(data, EventDataJobIdField) && !isJobId(data[EventDataJobIdField])) {
      ctx.addIssue({ code: 'custom', path: ['data', EventDataJobIdField], message: JOB_ID_MESSAGE });
    }
    for (const field of EventDataUserIdFields) {
      if (Object.hasOwn(data, field) && !isId(data[field])) ctx.addIssue({ code: 'custom', path: ['data', field], message: 'must be a user id: 1-64 of [A-Za-z0-9_.-]' });
    }
  });
export type EventEnvelope = z.infer<typeof EventEnvelope>;

const JOB_ID_MESSAGE = `must be a job id: 1-${DEFAULTS.idMaxLength - DerivedIdPrefix.job.length} of [A-Za-z0-9_.-]`;

export const isEventType = (type: string): type is EventType => Object.hasOwn(EventKinds, type);

