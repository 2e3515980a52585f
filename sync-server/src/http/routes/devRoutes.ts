import type { FastifyInstance } from 'fastify';
import { SignJWT } from 'jose';
import { DEFAULTS, DevLoginBody } from '@parley/schema';
import { ApiError } from '../ApiError';
import { isLoopbackHost } from '../loopbackHost';
import { validate } from '../validate';
import type { RouteDeps } from './RouteDeps';

/**
 * The dev login: mints a token for any user. Registered only when the config
 * turns it on (never in production, not with a configured key unless
 * `DEV_LOGIN=on`), and answers loopback Host names only (no DNS rebinding).
 */
export function devRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const secret = deps.config.jwtSecret;
  if (!deps.config.devLogin || !secret) return;
  const key = new TextEncoder().encode(secret);

  app.post('/api/dev/login', async (request) => {
    if (!isLoopbackHost(request.headers.host)) throw ApiError.forbidden('the dev login answers on localhost, 127.0.0.1 or [::1] only');
    const body = validate(DevLoginBody, request.body);
    const now = Math.floor(Date.now() / 1000);
    const expiresAt = now + DEFAULTS.devTokenTtlSeconds;
    const name = body.name ?? body.userId;
    const token = await new SignJWT({ name, ...(body.roles && { roles: body.roles }) })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(body.userId)
      .setIssuedAt(now)
      .setExpirationTime(expiresAt)
      .sign(key);
    await deps.storage.users.remember(body.userId, name);
    return { token, userId: body.userId, name, expiresAt: expiresAt * 1000 };
  });
}
