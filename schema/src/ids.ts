import { z } from 'zod';
import { DEFAULTS } from './defaults';

/**
 * Names no id may take: ids key plain objects (Yjs' `Y.Map#toJSON` builds
 * `{}` keyed by user id, for members and read receipts), where `__proto__`
 * sets the prototype instead of a key (the user silently got nothing) and
 * `constructor`/`prototype` read inherited values when absent.
 */
export const RESERVED_IDS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** User, conversation, message and notification ids share one grammar. */
export const Id = z
  .string()
  .regex(DEFAULTS.idPattern, 'must be 1-64 of [A-Za-z0-9_.-]')
  .refine((value) => !RESERVED_IDS.has(value), 'is a reserved name (__proto__, constructor, prototype)');
export type Id = z.infer<typeof Id>;

export function isId(value: unknown): value is string {
  return typeof value === 'string' && DEFAULTS.idPattern.test(value) && !RESERVED_IDS.has(value);
}

export type DocName =
  | { type: 'conversation'; id: string }
  | { type: 'inbox'; userId: string };

export const conversationDocName = (id: string): string => `conversation:${id}`;
export const inboxDocName = (userId: string): string => `inbox:${userId}`;

/** Parses `conversation:<id>` or `inbox:<userId>`; anything else is null. */
export function parseDocName(name: string): DocName | null {
  const colon = name.indexOf(':');
  if (colon < 0) return null;
  const prefix = name.slice(0, colon);
  const rest = name.slice(colon + 1);
  if (!isId(rest)) return null;
  if (prefix === 'conversation') return { type: 'conversation', id: rest };
  if (prefix === 'inbox') return { type: 'inbox', userId: rest };
  return null;
}

/**
 * Conversation ids the server derives: a direct conversation's from its two
 * members, a job's from the job. Nobody may choose one (CONTRACT section 4),
 * or a caller could squat the room two others or a job owner are later sent to.
 */
export const DerivedIdPrefix = { direct: 'dm-', job: 'job-' } as const;
export const isDerivedId = (id: string): boolean => Object.values(DerivedIdPrefix).some((prefix) => id.startsWith(prefix));

/** The conversation that `job.created` makes for a job. */
export const jobConversationId = (jobId: string): string => `${DerivedIdPrefix.job}${jobId}`;

/** A job id: an id short enough that its conversation id (`job-<id>`) is one too. */
export const JobId = Id.max(DEFAULTS.idMaxLength - DerivedIdPrefix.job.length, `a job id is at most ${DEFAULTS.idMaxLength - DerivedIdPrefix.job.length} characters`);
export const isJobId = (value: unknown): value is string => JobId.safeParse(value).success;
