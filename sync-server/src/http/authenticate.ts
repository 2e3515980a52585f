import type { FastifyRequest } from 'fastify';
import type { Identity } from '@parley/schema';
import { TokenError, type TokenVerifier } from '../auth/TokenVerifier';
import { ApiError } from './ApiError';

/** Reads and verifies `Authorization: Bearer <jwt>`. */
export async function authenticate(verifier: TokenVerifier, request: FastifyRequest): Promise<Identity> {
  const header = request.headers.authorization;
  const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  if (!match) throw ApiError.unauthorized();
  try {
    return await verifier.verify(match[1]!);
  } catch (error) {
    throw ApiError.unauthorized(error instanceof TokenError && error.reason === 'token-expired' ? 'the token has expired' : 'the token is not valid');
  }
}
