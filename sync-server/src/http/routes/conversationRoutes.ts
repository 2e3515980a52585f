import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AddMemberBody, CreateConversationBody, HistoryQuery, Id, RenameConversationBody, SendMessageBody } from '@parley/schema';
import { authenticate } from '../authenticate';
import { validate } from '../validate';
import type { RouteDeps } from './RouteDeps';
import { timed } from '../serverTiming';

const ConversationParams = z.strictObject({ id: Id });
const MemberParams = z.strictObject({ id: Id, userId: Id });

export function conversationRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { verifier, conversations } = deps;

  app.post('/api/conversations', async (request, reply) => {
    const caller = await authenticate(verifier, request);
    const body = validate(CreateConversationBody, request.body);
    const { id, created } = await conversations.create(caller, body);
    return reply.status(created ? 201 : 200).send({ id });
  });

  app.get('/api/conversations', async (request) => {
    const caller = await authenticate(verifier, request);
    return { conversations: await conversations.list(caller) };
  });

  app.patch('/api/conversations/:id', async (request) => {
    const caller = await authenticate(verifier, request);
    const { id } = validate(ConversationParams, request.params, 'params');
    const body = validate(RenameConversationBody, request.body);
    await conversations.rename(caller, id, body.title);
    return { id, title: body.title };
  });

  app.post('/api/conversations/:id/members', async (request, reply) => {
    const caller = await authenticate(verifier, request);
    const { id } = validate(ConversationParams, request.params, 'params');
    const body = validate(AddMemberBody, request.body);
    const added = await conversations.addMember(caller, id, body.userId, body.role);
    return reply.status(added ? 201 : 200).send({ id, userId: body.userId, added });
  });

  app.delete('/api/conversations/:id/members/:userId', async (request, reply) => {
    const caller = await authenticate(verifier, request);
    const { id, userId } = validate(MemberParams, request.params, 'params');
    await conversations.removeMember(caller, id, userId);
    return reply.status(200).send({ id, userId, removed: true });
  });

  app.get('/api/conversations/:id/messages', async (request, reply) => {
    const caller = await authenticate(verifier, request);
    const { id } = validate(ConversationParams, request.params, 'params');
    const query = validate(HistoryQuery, request.query, 'query');
    return timed(reply, 'history', () => conversations.history(caller, id, query.before, query.limit));
  });

  app.post('/api/conversations/:id/messages', async (request, reply) => {
    const caller = await authenticate(verifier, request);
    const { id } = validate(ConversationParams, request.params, 'params');
    const body = validate(SendMessageBody, request.body);
    const { message, created } = await conversations.send(caller, id, body);
    return reply.status(created ? 201 : 200).send({ message });
  });
}
