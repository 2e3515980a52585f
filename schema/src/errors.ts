/**
 * Machine codes for HTTP errors (`{error: {code, message}}`) and the reasons a
 * WebSocket document or socket is refused or closed. One list, so clients can switch on them.
 */
export const HttpErrorCode = {
  badRequest: 'bad_request',
  invalidJson: 'invalid_json',
  validation: 'validation_failed',
  unauthorized: 'unauthorized',
  forbidden: 'forbidden',
  notFound: 'not_found',
  conflict: 'conflict',
  tooLarge: 'payload_too_large',
  rateLimited: 'rate_limited',
  /** 409: a named limit of DEFAULTS is reached (members per conversation, conversations per user...). */
  limitReached: 'limit_reached',
  unknownEventType: 'unknown_event_type',
  internal: 'internal_error',
} as const;
export type HttpErrorCode = (typeof HttpErrorCode)[keyof typeof HttpErrorCode];

export interface HttpErrorBody {
  error: { code: HttpErrorCode; message: string; details?: unknown };
}

/** Reasons a document connection is refused at authentication time. */
export const AuthFailure = {
  invalidToken: 'invalid-token',
  expiredToken: 'token-expired',
  forbidden: 'forbidden',
  unknownDocument: 'unknown-document',
  otherUser: 'socket-belongs-to-another-user',
  tooManyDocuments: 'too-many-documents',
  tooManyConnections: 'too-many-connections',
} as const;
export type AuthFailure = (typeof AuthFailure)[keyof typeof AuthFailure];

/**
 * Reasons an update is refused. The server closes that document's connection
 * with one of these (WebSocket close code 4403 for rules, 4413 for size, 4429 for rate).
 */
export const UpdateRejection = {
  malformed: 'malformed-update',
  tooLarge: 'update-too-large',
  rateLimited: 'rate-limited',
  serverOnly: 'server-only-field',
  notAuthor: 'not-author',
  forgedAuthor: 'forged-author',
  foreignKey: 'not-your-key',
  foreignClient: 'client-id-belongs-to-another-user',
  invalidMessage: 'invalid-message',
  textTooLong: 'text-too-long',
  hardDelete: 'hard-delete-not-allowed',
  unknownField: 'unknown-field',
  missingDependency: 'missing-dependency',
  /** A map (reactions, muted, channels) or the client ids of a user would grow past its limit in DEFAULTS. */
  tooManyEntries: 'too-many-entries',
} as const;
export type UpdateRejection = (typeof UpdateRejection)[keyof typeof UpdateRejection];

export const CloseCode = {
  tokenExpired: 4401,
  rejectedUpdate: 4403,
  tooLarge: 4413,
  rateLimited: 4429,
  shuttingDown: 4503,
} as const;
