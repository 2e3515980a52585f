import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { Id, type BlockEntry } from '@parley/schema';
import { authenticate } from '../authenticate';
import { validate } from '../validate';
import type { RouteDeps } from './RouteDeps';

const BlockParams = z.strictObject({ userId: Id });

/** The caller's blocks (CONTRACT section 4; issue 14 item 3). */
export function blockRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { verifier, blocks } = deps;

  app.get('/api/users/me/blocks', async (request): Promise<{ blocks: BlockEntry[] }> => {
    const caller = await authenticate(verifier, request);
    return { blocks: await blocks.list(caller) };
  });

  app.put('/api/users/me/blocks/:userId', async (request): Promise<{ block: BlockEntry }> => {
    const caller = await authenticate(verifier, request);
    const { userId } = validate(BlockParams, request.params, 'params');
    return { block: await blocks.block(caller, userId) };
  });

  app.delete('/api/users/me/blocks/:userId', async (request) => {
    const caller = await authenticate(verifier, request);
    const { userId } = validate(BlockParams, request.params, 'params');
    return { userId, unblocked: await blocks.unblock(caller, userId) };
  });
}
