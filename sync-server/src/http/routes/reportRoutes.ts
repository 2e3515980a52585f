import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AdminReportsQuery, DEFAULTS, Id, ReportBody, ReportIdParams, isAdmin, type AdminReport, type Report } from '@parley/schema';
import { ApiError } from '../ApiError';
import { authenticate } from '../authenticate';
import { validate } from '../validate';
import type { RouteDeps } from './RouteDeps';

const MessageParams = z.strictObject({ id: Id, messageId: Id });

/** Reports (members) and their moderation (admins): issue 14 item 4. */
export function reportRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { verifier, reports } = deps;

  app.post('/api/conversations/:id/messages/:messageId/report', async (request, reply) => {
    const caller = await authenticate(verifier, request);
    const { id, messageId } = validate(MessageParams, request.params, 'params');
    const { reason } = validate(ReportBody, request.body);
    const report: Report = await reports.report(caller, id, messageId, reason);
    return reply.status(201).send({ report });
  });

  app.get('/api/admin/reports', async (request): Promise<{ reports: AdminReport[] }> => {
    const caller = await authenticate(verifier, request);
    if (!isAdmin(caller)) throw ApiError.forbidden('admin only');
    const query = validate(AdminReportsQuery, request.query, 'query');
    return { reports: await reports.list(query.state ?? 'open', query.limit ?? DEFAULTS.reportListMax) };
  });

  app.post('/api/admin/reports/:id/close', async (request): Promise<{ report: Report }> => {
    const caller = await authenticate(verifier, request);
    if (!isAdmin(caller)) throw ApiError.forbidden('admin only');
    const { id } = validate(ReportIdParams, request.params, 'params');
    return { report: await reports.close(caller, id) };
  });
}
