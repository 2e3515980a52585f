import { HttpErrorCode, rejectionHttpError, type UpdateRejection } from '@parley/schema';

/** An error the HTTP API answers with `{error: {code, message}}` and its status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: HttpErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }

  static badRequest = (message: string, details?: unknown) => new ApiError(400, HttpErrorCode.validation, message, details);
  static unauthorized = (message = 'a valid bearer token is required') => new ApiError(401, HttpErrorCode.unauthorized, message);
  static forbidden = (message = 'you are not allowed to do this') => new ApiError(403, HttpErrorCode.forbidden, message);
  static notFound = (message = 'not found') => new ApiError(404, HttpErrorCode.notFound, message);
  static conflict = (message: string) => new ApiError(409, HttpErrorCode.conflict, message);
  /** A named limit in DEFAULTS is reached (members, conversations...). */
  static limitReached = (message: string) => new ApiError(409, HttpErrorCode.limitReached, message);
  /** A change built from a REST call that the update validator refused (see rejectionHttpError). */
  static refused = (reason: UpdateRejection, detail: string) => {
    const { status, code } = rejectionHttpError(reason);
    return new ApiError(status, code, detail, { reason });
  };
}
