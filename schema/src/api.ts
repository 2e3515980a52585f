import { z } from 'zod';
import { DEFAULTS } from './defaults';
import { Id } from './ids';
import { Attachment, ConversationKind, EntityRef, Mentions, MessageText } from './conversation';
import type { ConversationSummary, Notification, Prefs } from './inbox';
import { Channels, QuietHours } from './inbox';
import type { Message } from './conversation';

/** Request bodies and queries of the HTTP API. Unknown fields are refused. */

export const DevLoginBody = z.strictObject({
  userId: Id,
  name: z.string().min(1).max(DEFAULTS.nameMaxLength).optional(),
  roles: z.array(z.enum(['admin', 'service'])).optional(),
});

export const CreateConversationBody = z.strictObject({
  members: z.array(Id).min(1).max(DEFAULTS.membersMaxPerCreate),
  title: z.string().max(DEFAULTS.titleMaxLength).optional(),
  kind: ConversationKind.optional(),
  ref: EntityRef.optional(),
  id: Id.optional(),
});
export type CreateConversationBody = z.infer<typeof CreateConversationBody>;

/** A rename (PATCH /api/conversations/:id): a title, trimmed, not blank. */
export const RenameConversationBody = z.strictObject({
  title: z.string().trim().min(1, 'a title is not blank').max(DEFAULTS.titleMaxLength),
});
export type RenameConversationBody = z.infer<typeof RenameConversationBody>;

export const AddMemberBody = z.strictObject({ userId: Id, role: z.enum(['owner', 'member']).optional() });

const intParam = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

export const HistoryQuery = z.strictObject({
  /** A `nextCursor` (`h:<seq>`) or a message id; which one it is, and whether it is known, the server decides. */
  before: z.string().min(1).max(DEFAULTS.idMaxLength + 8).optional(),
  limit: intParam(1, DEFAULTS.historyPageMax).optional(),
});

export const SearchQuery = z.strictObject({
  q: z.string().max(DEFAULTS.searchQueryMaxLength),
  conversationId: Id.optional(),
  limit: intParam(1, DEFAULTS.searchPageMax).optional(),
  cursor: z.string().min(1).max(200).optional(),
});
export type SearchQuery = z.infer<typeof SearchQuery>;

/** PATCH of a message: its new text (the REST twin of an edit in the document). */
export const EditMessageBody = z.strictObject({ text: MessageText, mentions: Mentions.optional() });
/** A read receipt over REST. */
export const ReadReceiptBody = z.strictObject({ messageId: Id });
/** A reaction in a URL: 1 to `emojiMaxLength` characters (the server's rule for reaction keys). */
export const ReactionEmoji = z.string().min(1).max(DEFAULTS.emojiMaxLength);

export const SendMessageBody = z.strictObject({
  id: Id.optional(),
  text: MessageText,
  replyTo: Id.optional(),
  attachments: z.array(Attachment).max(DEFAULTS.attachmentsMaxPerMessage).optional(),
  mentions: Mentions.optional(),
});
export type SendMessageBody = z.infer<typeof SendMessageBody>;

export const NotificationsQuery = z.strictObject({
  unread: z.enum(['0', '1', 'true', 'false']).optional(),
  limit: intParam(1, DEFAULTS.notificationsPageMax).optional(),
  cursor: z.string().max(200).optional(),
  archived: z.enum(['0', '1', 'true', 'false']).optional(),
});

export const PreferencesBody = z.strictObject({
  channels: z.record(z.string().min(1).max(64), Channels).optional(),
  muted: z.record(Id, z.number().int().nonnegative().max(DEFAULTS.timestampMax).nullable()).optional(),
  /** `null` removes them. */
  quietHours: QuietHours.nullable().optional(),
});
export type PreferencesBody = z.infer<typeof PreferencesBody>;

export const PushSubscriptionBody = z.strictObject({
  endpoint: z.url().max(2048),
  expirationTime: z.number().nullable().optional(),
  keys: z.strictObject({ p256dh: z.string().max(256), auth: z.string().max(256) }),
});
// --- Delivery beyond the app (issue 10): contact details ---
/** An address, never a URL: `mailto:` (or any scheme) is refused so a digest goes to a mailbox only. */
export const ContactEmail = z
  .string()
  .max(DEFAULTS.contactEmailMaxLength)
  .refine((v) => !/^mailto:/i.test(v.trim()), 'must be a bare address (user@example.com), not a mailto: link')
  .pipe(z.email('must be an email address such as user@example.com'));
/** E.164: a plus, then up to 15 digits, the first not 0. */
export const ContactPhone = z.string().regex(/^\+[1-9]\d{1,14}$/, 'must be an E.164 number such as +14155550123');
export const ContactBody = z
  .strictObject({ email: ContactEmail.nullable().optional(), phone: ContactPhone.nullable().optional() })
  .refine((b) => b.email !== undefined || b.phone !== undefined, 'give email, phone or both (null clears one)');
export type ContactBody = z.infer<typeof ContactBody>;
export const UserIdParams = z.strictObject({ id: Id });

export const PushUnsubscribeBody = z.strictObject({ endpoint: z.url().max(2048) });

export const PresenceQuery = z.strictObject({
  users: z
    .string()
    .max(64 * 65)
    .transform((s) => s.split(',').filter(Boolean))
    .pipe(z.array(Id).min(1).max(64)),
});

/** Response shapes. */
export interface ConversationListItem {
  id: string;
  title: string;
  kind: string;
  members: string[];
  lastMessage: ConversationSummary['lastMessage'];
  unread: number;
}
export interface HistoryPage {
  messages: Message[];
  nextCursor: string | null;
}
export interface SearchResult {
  conversationId: string;
  message: Message;
  /**
   * HTML: the text around the match, HTML-escaped, each matched word wrapped
   * in `<mark>`...`</mark>` and nothing else (safe to set as innerHTML).
   */
  snippet: string;
}
export interface SearchPage {
  results: SearchResult[];
  nextCursor: string | null;
}
export interface NotificationsPage {
  notifications: Notification[];
  nextCursor: string | null;
}
export type PreferencesResponse = Prefs;
export interface PresenceEntry {
  online: boolean;
  lastSeenAt: number | null;
}

/** The durable job queue's states (sync-server/README.md, "Job queue"). */
export const JOB_STATES = ['queued', 'active', 'retry', 'done', 'dead'] as const;
export type JobState = (typeof JOB_STATES)[number];

export const AdminJobsQuery = z.strictObject({
  state: z.enum(JOB_STATES).optional(),
  queue: z.string().min(1).max(64).optional(),
  limit: intParam(1, DEFAULTS.jobListMax).optional(),
});

export const JobIdParams = z.strictObject({ id: z.string().regex(/^\d{1,18}$/, 'must be a job id') });

/** A job as GET /api/admin/jobs shows it. */
export interface AdminJob {
  id: string;
  queue: string;
  state: JobState;
  attempts: number;
  runAt: number;
  leaseUntil: number | null;
  key: string | null;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
  data: unknown;
}

// --- Blocks and reports (issue 14, items 3 and 4) ---
/** `POST /api/conversations/:id/messages/:messageId/report`: why, in a sentence or two. */
export const ReportBody = z.strictObject({
  reason: z.string().trim().min(1, 'a reason is not blank').max(DEFAULTS.reportReasonMaxLength),
});
export type ReportBody = z.infer<typeof ReportBody>;

export const REPORT_STATES = ['open', 'closed', 'all'] as const;
export const AdminReportsQuery = z.strictObject({
  state: z.enum(REPORT_STATES).optional(),
  limit: intParam(1, DEFAULTS.reportListMax).optional(),
});
export const ReportIdParams = z.strictObject({ id: z.string().regex(/^\d{1,18}$/, 'must be a report id') });

/** One entry of `GET /api/users/me/blocks`. */
export interface BlockEntry {
  userId: string;
  name: string | null;
  createdAt: number;
}

/** A report as the reporter and `GET /api/admin/reports` see it. */
export interface Report {
  id: string;
  conversationId: string;
  messageId: string;
  reporter: string;
  reason: string;
  createdAt: number;
  closedAt: number | null;
  closedBy: string | null;
}

/** A report with what a moderator needs to judge it: the conversation and the message as they are now. */
export interface AdminReport extends Report {
  conversation: { id: string; title: string; kind: string } | null;
  /** The message now (a soft-deleted one has empty text); null if the index does not know it. */
  message: Pick<Message, 'id' | 'author' | 'text' | 'createdAt' | 'deletedAt'> | null;
}
