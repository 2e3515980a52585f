import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { DEFAULTS, HttpErrorCode, type HttpErrorBody } from '@parley/schema';
import { asStorageFailure } from '../storage/StorageWriteError';
import { ApiError } from './ApiError';
import { drainBody } from './drainBody';
import type { Logger } from '../logger';

/** Fastify's own errors (body parsing, limits) in our `{error: {code, message}}` shape. */
function fromFastify(error: FastifyError): ApiError | null {
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ApiError(400, HttpErrorCode.invalidJson, 'the body is not valid JSON');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError(413, HttpErrorCode.tooLarge, 'the body is too large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new ApiError(400, HttpErrorCode.badRequest, 'send a JSON body with content-type application/json');
  }
  if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
    if (error.statusCode === 413) return new ApiError(413, HttpErrorCode.tooLarge, error.message);
    return new ApiError(error.statusCode === 404 ? 404 : 400, error.statusCode === 404 ? HttpErrorCode.notFound : HttpErrorCode.badRequest, error.message);
  }
  return null;
}

/** Storage that failed (the disk full): nothing of the request was stored; the client retries later. */
function fromStorage(error: unknown, reply: FastifyReply): ApiError | null {
  const failure = asStorageFailure(error);
  if (!failure) return null;
  reply.header('retry-after', String(DEFAULTS.storageRetryAfterSeconds));
  return failure.full
    ? new ApiError(507, HttpErrorCode.storageFull, 'the server is out of disk space: nothing was stored; retry later')
    : new ApiError(503, HttpErrorCode.storageUnavailable, 'the server could not store this: nothing was stored; retry later');
}

export function errorHandler(logger: Logger) {
  return async (error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) => {
    const storageError = fromStorage(error, reply);
    if (storageError) logger.error({ err: error, url: request.url }, 'storage failed; request refused');
    const apiError = error instanceof ApiError ? error : (storageError ?? fromFastify(error as FastifyError));
    if (!apiError) {
      logger.error({ err: error, url: request.url }, 'request failed');
      const body: HttpErrorBody = { error: { code: HttpErrorCode.internal, message: 'something went wrong on our side' } };
      return reply.status(500).send(body);
    }
    // A refused body may still be on its way: read the rest first, or the client gets a reset instead of the answer.
    if (apiError.status === 413) await drainBody(request.raw);
    const body: HttpErrorBody = {
      error: { code: apiError.code, message: apiError.message, ...(apiError.details !== undefined && { details: apiError.details }) },
    };
    return reply.status(apiError.status).send(body);
  };
}

export function notFoundHandler(request: FastifyRequest, reply: FastifyReply) {
  const body: HttpErrorBody = { error: { code: HttpErrorCode.notFound, message: `no route ${request.method} ${request.url.split('?')[0]}` } };
  return reply.status(404).send(body);
}
