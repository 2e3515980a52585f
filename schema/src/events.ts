import { DEFAULTS } from './defaults';
import { z } from 'zod';
import { EntityRef } from './conversation';
import { Id } from './ids';

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
export const NotificationKinds = ['new_message', ...Object.values(EventKinds)] as const;

/** ISO 8601 (a date, or a date-time with or without offset) or a ms epoch. */
const occurredAt = z.union([
  z
    .string()
    .max(64)
    .regex(/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/, 'must be an ISO 8601 timestamp')
    .refine((s) => !Number.isNaN(Date.parse(s)), 'must be an ISO 8601 timestamp')
    .transform((s) => Date.parse(s)),
  z.number().int().nonnegative(),
]);

/** The envelope of `POST /api/events`. `type` is checked separately so an unknown one gets its own error. */
export const EventEnvelope = z.strictObject({
  id: z.string().min(1).max(128).regex(/^[A-Za-z0-9_.:-]+$/, 'must be 1-128 of [A-Za-z0-9_.:-]'),
  type: z.string().min(1).max(64),
  occurredAt,
  actor: Id.optional(),
  subject: EntityRef,
  recipients: z.array(Id).max(DEFAULTS.eventRecipientsMax).optional(),
  data: z.record(z.string(), z.unknown()).optional(),
});
export type EventEnvelope = z.infer<typeof EventEnvelope>;

export const isEventType = (type: string): type is EventType => Object.hasOwn(EventKinds, type);

