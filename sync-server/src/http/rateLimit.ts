import type { FastifyInstance, FastifyRequest } from 'fastify';
import fastifyRateLimit from '@fastify/rate-limit';
import { DEFAULTS, HttpErrorCode, isService } from '@parley/schema';
import type { TokenVerifier } from '../auth/TokenVerifier';
import type { Config } from '../config';
import { ApiError } from './ApiError';
import { authenticate } from './authenticate';

type Limits = Config['httpRateLimit'];

/** Who a request counts against: the token's user (or service), else the caller's address. */
async function callerKey(verifier: TokenVerifier, request: FastifyRequest): Promise<string> {
  try {
    const caller = await authenticate(verifier, request);
    return `${isService(caller) ? 'service' : 'user'}:${caller.userId}`;
  } catch {
    return `ip:${request.ip}`;
  }
}

function maxFor(limits: Limits, key: string): number {
  if (key.startsWith('service:')) return limits.perService;
  if (key.startsWith('user:')) return limits.perUser;
  return limits.perIp;
}

/**
 * Rate limits on `/api/...` (health, metrics and the web app's files are not
 * counted): past the limit, `429 {error: {code: rate_limited}}` with
 * `Retry-After`. Registered before the routes, which it hooks as they are added.
 */
export async function rateLimit(app: FastifyInstance, verifier: TokenVerifier, limits: Limits): Promise<void> {
  await app.register(fastifyRateLimit, {
    global: true,
    hook: 'onRequest',
    cache: DEFAULTS.httpRateTrackedCallers,
    timeWindow: limits.windowMs,
    allowList: (request) => !request.url.startsWith('/api/'),
    keyGenerator: (request) => callerKey(verifier, request),
    max: (_request, key) => maxFor(limits, key),
    errorResponseBuilder: (_request, context) => new ApiError(429, HttpErrorCode.rateLimited, `too many requests; retry in ${context.after}`),
  });
}
