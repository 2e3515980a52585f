import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AdminJobsQuery, DEFAULTS, JobIdParams, isAdmin, isService, type AdminJob } from '@parley/schema';
import { ApiError } from '../ApiError';
import { authenticate } from '../authenticate';
import { validate } from '../validate';
import type { RouteDeps } from './RouteDeps';

async function adminOrService(deps: RouteDeps, request: FastifyRequest): Promise<void> {
  const caller = await authenticate(deps.verifier, request);
  if (!isAdmin(caller) && !isService(caller)) throw ApiError.forbidden('admin or service only');
}

export function adminRoutes(app: FastifyInstance, deps: RouteDeps): void {
  /** Runs the scheduled clean-up now (scripts/cleanup.mts calls this). */
  app.post('/api/admin/cleanup', async (request) => {
    await adminOrService(deps, request);
    return deps.cleanup.run();
  });

  /** The job queue, newest change first, each with its last error. */
  app.get('/api/admin/jobs', async (request): Promise<{ jobs: AdminJob[] }> => {
    await adminOrService(deps, request);
    const query = validate(AdminJobsQuery, request.query, 'query');
    const jobs = await deps.storage.jobs.list({ state: query.state, queue: query.queue, limit: query.limit ?? DEFAULTS.jobListMax });
    return { jobs };
  });

  /** Runs a dead job again, from its first attempt. */
  app.post('/api/admin/jobs/:id/retry', async (request): Promise<{ job: AdminJob }> => {
    await adminOrService(deps, request);
    const { id } = validate(JobIdParams, request.params, 'params');
    const job = await deps.storage.jobs.get(id);
    if (!job) throw ApiError.notFound(`no job ${id}`);
    if (!(await deps.storage.jobs.retry(id, Date.now()))) throw ApiError.conflict(`job ${id} is ${job.state}, not dead: only a dead job is retried`);
    deps.jobs.kick(job.queue);
    return { job: (await deps.storage.jobs.get(id))! };
  });
}
