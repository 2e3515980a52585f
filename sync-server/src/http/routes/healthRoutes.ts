import type { FastifyInstance } from 'fastify';
import type { RouteDeps } from './RouteDeps';

export function healthRoutes(app: FastifyInstance, deps: RouteDeps): void {
  app.get('/healthz', async (_request, reply) => {
    const { ready, body } = deps.health();
    return reply.status(ready ? 200 : 503).send(body);
  });

  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', deps.metrics.registry.contentType);
    return deps.metrics.registry.metrics();
  });
}
