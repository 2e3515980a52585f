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
  /** 507: the disk is full; nothing of the request was stored. Retry later. */
  storageFull: 'storage_full',
  /** 503: storage failed otherwise (I/O error); nothing of the request was stored. Retry later. */
  storageUnavailable: 'storage_unavailable',
  // --- Attachments (issue 14) ---
  /** 400: an upload without a file, or with more than one. */
  noFile: 'no_file',
  /** 400: a zero-byte file. */
  emptyFile: 'empty_file',
  /** 400: the bytes claim an image format but do not decode as one. */
  invalidImage: 'invalid_image',
  /** 400: a message names an attachment that is not an upload of this conversation as the upload call returned it. */
  invalidAttachment: 'invalid_attachment',
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
  /** The socket authenticated no document within `DEFAULTS.authDeadlineMs`. */
  authTimeout: 'auth-timeout',
  /** Too many sockets waiting to authenticate (server-wide or from one address). */
  tooManyUnauthenticated: 'too-many-unauthenticated-sockets',
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
  /** A new message reuses the id of another message of the conversation (CONTRACT: ids are unique in it). */
  duplicateId: 'duplicate-message-id',
  /** A map (reactions, muted, channels) or the client ids of a user would grow past its limit in DEFAULTS. */
  tooManyEntries: 'too-many-entries',
  /** A message's `mentions` is not a list of distinct members of the conversation (issue 14). */
  invalidMention: 'invalid-mention',
} as const;
export type UpdateRejection = (typeof UpdateRejection)[keyof typeof UpdateRejection];

/**
 * Reasons the server closes a document that are not the client's fault: its
 * update was not stored, nothing is wrong with it, and the client resends it
 * later (its replica must not be dropped, unlike after an UpdateRejection).
 */
export const ServerFailure = {
  storageUnavailable: 'storage-unavailable',
  /** The node is draining (SIGTERM, cluster hand-over): reconnect, to another node behind the load balancer (close code 4503). */
  goingAway: 'server-going-away',
  /**
   * The update continues the sender's own changes from past what the server
   * holds: earlier changes of that replica never reached the store (a write
   * that failed, a server that died before its commit) and the replica still
   * has them. Nothing is wrong with the update: reopen the document and let
   * its sync (the replica's sync step 2) bring both (close code 4409).
   */
  resyncNeeded: 'resync-needed',
} as const;
export type ServerFailure = (typeof ServerFailure)[keyof typeof ServerFailure];

export const CloseCode = {
  tokenExpired: 4401,
  rejectedUpdate: 4403,
  tooLarge: 4413,
  rateLimited: 4429,
  shuttingDown: 4503,
  /** Socket closes for work and memory (issue 11). */
  authTimeout: 4408,
  /** The socket let more than `DEFAULTS.wsBufferedMaxBytes` pile up unread, or stalled over the high mark. */
  slowReader: 4509,
  tooManyUnauthenticated: 4529,
  /** The update could not be stored (disk full, I/O error); resend later. */
  storageUnavailable: 4507,
  /** The live document was renewed (issue 9, item 2): drop the replica, sync afresh, re-apply what was not acknowledged. */
  documentRenewed: 4410,
  /** ServerFailure.resyncNeeded: the server lacks the sender's earlier changes; keep the replica and sync again. */
  resyncNeeded: 4409,
} as const;

// --- Bounded live document (issue 9, item 2) ---
/**
 * The server replaced `conversation:<id>` by a fresh document holding the
 * newest window (its `meta.epoch` one higher). A replica of an earlier epoch
 * must not be synced into it (Yjs would merge every old message back in as
 * a duplicate): the connection is closed with this reason (code 4410) when the
 * renewal happens and whenever a replica of an earlier epoch announces itself
 * (its sync step 1 names a client id of an earlier epoch). The client drops
 * its replica, opens the document with a fresh Y.Doc, and makes again, as
 * operations, whatever the server never acknowledged (see docs/CONTRACT-NOTES.md).
 */
export const DocumentRenewal = { reason: 'document-renewed' } as const;

export const isDocumentRenewal = (event: { code?: number; reason?: string }): boolean =>
  event.reason === DocumentRenewal.reason || event.code === CloseCode.documentRenewed;

/** Why a socket was closed for its reading (see `CloseCode.slowReader`). */
export const SlowReader = { reason: 'slow-reader' } as const;

/** The close code a refused update stands for: 4413 for size, 4429 for rate, 4403 for every rule. */
export function rejectionCloseCode(reason: string): number {
  if (reason === UpdateRejection.tooLarge) return CloseCode.tooLarge;
  if (reason === UpdateRejection.rateLimited) return CloseCode.rateLimited;
  return CloseCode.rejectedUpdate;
}

const rejectionReasons: ReadonlySet<string> = new Set(Object.values(UpdateRejection));

export const isUpdateRejection = (reason: string): reason is UpdateRejection => rejectionReasons.has(reason);

/**
 * The close code the server meant. A refused update closes one document of a
 * multiplexed socket with Hocuspocus' CLOSE message, which carries a reason
 * but no code: the provider reports every such close as 1000. The reason says
 * which code it stands for.
 */
export function closeCodeOf(event: { code?: number; reason?: string }): number {
  const code = event.code ?? 1000;
  if (code === 1000 && event.reason && isUpdateRejection(event.reason)) return rejectionCloseCode(event.reason);
  if (code === 1000 && event.reason === 'document-renewed') return CloseCode.documentRenewed;
  if (code === 1000 && event.reason === ServerFailure.resyncNeeded) return CloseCode.resyncNeeded;
  return code;
}

/** A document refused for an update it sent (4403 rules, 4413 size): its replica must be rebuilt. A 4429 socket only waits. */
export const isReplicaRefusal = (code: number): boolean => code === CloseCode.rejectedUpdate || code === CloseCode.tooLarge;

// --- REST parity (issue 9, item 4): a refused change answers over HTTP as it would close a socket ---
/**
 * The HTTP status and code for an update the server refused, when the update
 * was built from a REST call (edit, soft delete, reaction, receipt): the same
 * rules judge both ways in, and this says how a refusal reads over HTTP.
 */
export function rejectionHttpError(reason: UpdateRejection): { status: number; code: HttpErrorCode } {
  switch (reason) {
    case UpdateRejection.notAuthor:
    case UpdateRejection.forgedAuthor:
    case UpdateRejection.foreignKey:
    case UpdateRejection.foreignClient:
    case UpdateRejection.serverOnly:
      return { status: 403, code: HttpErrorCode.forbidden };
    case UpdateRejection.tooManyEntries:
      return { status: 409, code: HttpErrorCode.limitReached };
    case UpdateRejection.duplicateId:
      return { status: 409, code: HttpErrorCode.conflict };
    case UpdateRejection.tooLarge:
      return { status: 413, code: HttpErrorCode.tooLarge };
    default:
      return { status: 400, code: HttpErrorCode.validation };
  }
}
