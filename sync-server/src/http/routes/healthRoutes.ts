import type { FastifyInstance } from 'fastify';
import type { RouteDeps } from './RouteDeps';

export function healthRoutes(app: FastifyInstance, deps: RouteDeps): void {
  app.get('/healthz', async (_request, reply) => {
    if (!deps.isReady()) return reply.status(503).send({ status: 'stopping' });
    return { status: 'ok' };
  });

  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', deps.metrics.registry.contentType);
    return deps.metrics.registry.metrics();
  });
}
