import type { FastifyInstance } from 'fastify';
import { EventEnvelope, isService } from '@parley/schema';
import { ApiError } from '../ApiError';
import { authenticate } from '../authenticate';
import { validate } from '../validate';
import type { RouteDeps } from './RouteDeps';

export function eventRoutes(app: FastifyInstance, deps: RouteDeps): void {
  app.post('/api/events', async (request, reply) => {
    const caller = await authenticate(deps.verifier, request);
    if (!isService(caller)) throw ApiError.forbidden('only a service token may post events');
    const event = validate(EventEnvelope, request.body);
    const { duplicate } = await deps.events.accept(event);
    return duplicate ? reply.status(200).send({ duplicate: true }) : reply.status(202).send({ accepted: true });
  });
}
