import { existsSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';
import { DEFAULTS } from '@parley/schema';
import { ApiError } from './ApiError';
import { errorHandler, notFoundHandler } from './errorHandler';
import type { Logger } from '../logger';
import type { RouteDeps } from './routes/RouteDeps';
import { healthRoutes } from './routes/healthRoutes';
import { devRoutes } from './routes/devRoutes';
import { conversationRoutes } from './routes/conversationRoutes';
import { notificationRoutes } from './routes/notificationRoutes';
import { eventRoutes } from './routes/eventRoutes';
import { presenceRoutes } from './routes/presenceRoutes';
import { pushRoutes } from './routes/pushRoutes';
import { adminRoutes } from './routes/adminRoutes';
import { messageRoutes } from './routes/messageRoutes';
import { searchRoutes } from './routes/searchRoutes';
import { blockRoutes } from './routes/blockRoutes';
import { reportRoutes } from './routes/reportRoutes';

import { attachmentRoutes } from './routes/attachmentRoutes';
import { deliveryRoutes } from './routes/deliveryRoutes';
import { HttpErrorCode } from '@parley/schema';
import { securityHeaders } from './securityHeaders';
import { rateLimit } from './rateLimit';

export type RouteRegistrar = (app: FastifyInstance, deps: RouteDeps) => void;

/** The HTTP side of the one port: API, health, metrics and the web app. */
export async function createHttpApp(deps: RouteDeps, logger: Logger, extraRoutes: RouteRegistrar[] = []): Promise<FastifyInstance> {
  const app = Fastify({ loggerInstance: logger.child({ component: 'http' }, { level: 'warn' }) as FastifyBaseLogger, bodyLimit: DEFAULTS.httpBodyMaxBytes });

  // An empty JSON body is "no body", so POSTs like read-all work without `{}`.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = String(body);
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      done(new ApiError(400, HttpErrorCode.invalidJson, 'the body is not valid JSON'), undefined);
    }
  });

  app.setErrorHandler(errorHandler(logger));
  app.setNotFoundHandler(notFoundHandler);
  securityHeaders(app);
  await rateLimit(app, deps.verifier, deps.config.httpRateLimit);

  for (const register of [healthRoutes, devRoutes, conversationRoutes, notificationRoutes, eventRoutes, presenceRoutes, pushRoutes, adminRoutes, messageRoutes, searchRoutes, blockRoutes, reportRoutes, attachmentRoutes, deliveryRoutes, ...extraRoutes]) register(app, deps);
  await serveWebApp(app, deps.config.webDistDir);
  return app;
}

/** Hashed build output (Vite's `assets/`): a name never changes content, so browsers may keep it for a year. */
const IMMUTABLE = 'public, max-age=31536000, immutable';
/** index.html, sw.js and other unhashed files: kept, but asked about again on every use. */
const REVALIDATE = 'no-cache';

/**
 * The built web app at `/`, with client-side routes falling back to
 * index.html. The `.br`/`.gz` copies the build wrote beside each text asset
 * are sent as they are to browsers that accept them (no compression per
 * request); hashed assets are cached as immutable, the rest revalidated.
 */
async function serveWebApp(app: FastifyInstance, distDir: string): Promise<void> {
  if (!existsSync(join(distDir, 'index.html'))) {
    app.get('/', async (_request, reply) =>
      reply.type('text/html').send('<!doctype html><title>Parley</title><p>The web app is not built. Run <code>npm run build</code>, or use <code>npm start</code>, which builds it.</p>'),
    );
    return;
  }
  const assetsDir = join(distDir, 'assets') + sep;
  await app.register(fastifyStatic, {
    root: distDir,
    wildcard: false,
    preCompressed: true,
    cacheControl: false,
    setHeaders: (reply, path) => {
      const hashed = path.startsWith(assetsDir) && !relative(assetsDir, path).includes(sep);
      reply.header('cache-control', hashed ? IMMUTABLE : REVALIDATE);
    },
  });
  app.get('/*', async (request, reply) => {
    if (request.url.startsWith('/api/')) return notFoundHandler(request, reply);
    return reply.sendFile('index.html');
  });
}
