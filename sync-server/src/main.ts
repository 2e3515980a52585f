import { DEFAULTS } from '@parley/schema';
import { ConfigError, loadConfig } from './config';
import { ParleyServer } from './ParleyServer';
import { routeConsoleToLogger } from './logging/consoleBridge';
import { CorruptDatabaseError } from './storage/sqlite/integrityCheck';
import { openStorage } from './storage/openStorage';
import { SchemaTooNewError } from './storage/postgres/PgMigrator';
import { checkKeyFingerprint, keyFingerprint, KeyMismatchError } from './cluster/KeyFingerprint';
import type { Storage } from './storage/Storage';
import type { Config } from './config';
import type pg from 'pg';

/** Why the store did not open, in one line, when it is the store's state or reachability (not a bug). */
function storageRefusal(error: unknown, postgres: boolean): string | null {
  if (error instanceof CorruptDatabaseError || error instanceof SchemaTooNewError || error instanceof KeyMismatchError) return error.message;
  if (!postgres) return null;
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  if (typeof code === 'string' && error instanceof Error) return `cannot open the PostgreSQL database (DATABASE_URL): ${code}: ${error.message.split('\n')[0]}`;
  return null;
}

/** Cluster mode: every node verifies tokens with the same key (see KeyFingerprint). */
async function sameKeyAsTheCluster(config: Config, storage: Storage): Promise<void> {
  if (!config.redisUrl) return;
  const pool = (storage as Partial<{ pool: pg.Pool }>).pool;
  if (!pool) return;
  try {
    await checkKeyFingerprint(pool, keyFingerprint({ secret: config.jwtSecret, publicKeyPem: config.jwtPublicKey }));
  } catch (error) {
    await storage.close().catch(() => {});
    throw error;
  }
}

/** Entry point: validate the environment, start, and shut down cleanly on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`parley: invalid configuration: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  let server: ParleyServer;
  try {
    const storage = await openStorage(config);
    await sameKeyAsTheCluster(config, storage);
    server = new ParleyServer(config, { storage });
  } catch (error) {
    const refusal = storageRefusal(error, config.databaseUrl !== null);
    if (refusal) {
      process.stderr.write(`parley: ${refusal}\n`);
      process.exit(1);
    }
    throw error;
  }
  routeConsoleToLogger(server.logger);
  const { port, host } = await server.listen();
  server.logger.info({ port, host, mode: config.mode, dataDir: config.dataDir }, 'listening');
  if (config.mode !== 'production') {
    const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}/`;
    const lines = [`Parley is running at ${url}`];
    lines.push(config.devLogin ? `Dev login: open ${url} and pick a user, or POST ${url}api/dev/login {"userId":"alice"}` : 'Dev login: off (a key is configured; DEV_LOGIN=on turns it on)');
    if (config.jwtSecretGenerated) lines.push(`Dev JWT secret (kept in ${config.dataDir}/dev-jwt-secret): ${config.jwtSecret}`);
    process.stdout.write(`\n${lines.join('\n')}\n\n`);
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    server.logger.info({ signal }, 'shutting down');
    // Every acknowledged write is already on disk, so a shutdown that outlives the grace
    // period (a stuck peer, a hung request) ends anyway rather than hanging a deploy.
    const graceMs = config.cluster.drainDelayMs + DEFAULTS.shutdownGraceMs;
    setTimeout(() => {
      server.logger.warn({ graceMs }, 'shutdown took too long; exiting');
      // Still flush and close storage: close() may be stuck before it got there.
      void server.storage.close().finally(() => process.exit(0));
    }, graceMs).unref();
    try {
      await server.drain();
      server.logger.info('stopped');
      process.exit(0);
    } catch (error) {
      server.logger.error({ err: error }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`parley: failed to start: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
