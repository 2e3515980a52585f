import type { FastifyInstance } from 'fastify';
import { isAdmin, isService } from '@parley/schema';
import { ApiError } from '../ApiError';
import { authenticate } from '../authenticate';
import type { RouteDeps } from './RouteDeps';

export function adminRoutes(app: FastifyInstance, deps: RouteDeps): void {
  /** Runs the scheduled clean-up now (scripts/cleanup.mts calls this). */
  app.post('/api/admin/cleanup', async (request) => {
    const caller = await authenticate(deps.verifier, request);
    if (!isAdmin(caller) && !isService(caller)) throw ApiError.forbidden('admin or service only');
    return deps.cleanup.run();
  });
}
