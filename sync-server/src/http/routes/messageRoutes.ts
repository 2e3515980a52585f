import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { EditMessageBody, Id, ReactionEmoji, ReadReceiptBody } from '@parley/schema';
import { authenticate } from '../authenticate';
import { validate } from '../validate';
import type { RouteDeps } from './RouteDeps';

const MessageParams = z.strictObject({ id: Id, messageId: Id });
const ReactionParams = z.strictObject({ id: Id, messageId: Id, emoji: ReactionEmoji });
const ConversationParams = z.strictObject({ id: Id });

/** REST parity with the WebSocket (CONTRACT section 4): edit, soft delete, own reactions, read receipt. */
export function messageRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { verifier, messageActions } = deps;

  // Bounded live document (issue 9, item 2): one message by id, wherever it lives (the SDK asks before posting again).
  app.get('/api/conversations/:id/messages/:messageId', async (request) => {
    const caller = await authenticate(verifier, request);
    const { id, messageId } = validate(MessageParams, request.params, 'params');
    return { message: await messageActions.get(caller, id, messageId) };
  });

  app.patch('/api/conversations/:id/messages/:messageId', async (request) => {
    const caller = await authenticate(verifier, request);
    const { id, messageId } = validate(MessageParams, request.params, 'params');
    const { text, mentions } = validate(EditMessageBody, request.body);
    return { message: await messageActions.edit(caller, id, messageId, text, mentions) };
  });

  app.delete('/api/conversations/:id/messages/:messageId', async (request) => {
    const caller = await authenticate(verifier, request);
    const { id, messageId } = validate(MessageParams, request.params, 'params');
    return { message: await messageActions.softDelete(caller, id, messageId) };
  });

  for (const [method, on] of [['put', true], ['delete', false]] as const) {
    app[method]('/api/conversations/:id/messages/:messageId/reactions/:emoji', async (request) => {
      const caller = await authenticate(verifier, request);
      const { id, messageId, emoji } = validate(ReactionParams, request.params, 'params');
      return { message: await messageActions.react(caller, id, messageId, emoji, on) };
    });
  }

  app.post('/api/conversations/:id/read', async (request) => {
    const caller = await authenticate(verifier, request);
    const { id } = validate(ConversationParams, request.params, 'params');
    const { messageId } = validate(ReadReceiptBody, request.body);
    return { read: await messageActions.read(caller, id, messageId) };
  });
}
