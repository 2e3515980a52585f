import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { DEFAULTS } from '@parley/schema';
import { devVapidKeys, vapidKeysError, type VapidKeys } from './delivery/vapidKeys';

/** Server configuration, read once from the environment and validated. */
export interface Config {
  host: string;
  port: number;
  dataDir: string;
  jwtSecret: string | null;
  jwtPublicKey: string | null;
  /** True when the secret was generated here (dev mode), so the start banner prints it. */
  jwtSecretGenerated: boolean;
  mode: 'development' | 'test' | 'production';
  logLevel: string;
  redisUrl: string | null;
  /** Cluster mode (REDIS_URL with DATABASE_URL, issue 15). */
  cluster: { nodeId: string; keyPrefix: string; drainDelayMs: number };
  databaseUrl: string | null;
  /** Served at `/` when present. */
  webDistDir: string;
  /** Tuning: compaction bounds (defaults in DEFAULTS). */
  compaction: { intervalMs: number; maxUpdates: number; maxBytes: number; maxAgeMs: number; majorRatio: number };
  /** Read or archived notifications older than this are removed by the clean-up. */
  cleanupMaxAgeMs: number;
  /** How often the recurring clean-up runs (DEFAULTS.cleanupIntervalMs). */
  cleanupIntervalMs: number;
  /**
   * The dev login (`POST /api/dev/login`): never in production; otherwise on
   * only when the secret was generated here (no real key configured) or
   * `DEV_LOGIN=on` opts in. It answers loopback Host headers only.
   */
  devLogin: boolean;
  /** Hosts a push subscription endpoint may name (see DEFAULTS.pushEndpointHosts). */
  pushEndpointHosts: readonly string[];
  /** HTTP API rate limits: requests per window per user, service and IP (see DEFAULTS). */
  httpRateLimit: { windowMs: number; perUser: number; perService: number; perIp: number };
  // --- Attachments (issue 14) ---
  /** The largest upload, bytes (env `UPLOAD_MAX_BYTES`, default DEFAULTS.uploadMaxBytes). */
  uploadMaxBytes: number;
  /** Bounded live document: the window kept by a renewal (DEFAULTS.liveWindowMessages; env LIVE_WINDOW_MESSAGES, tests use a small one). */
  liveWindow: number;
  /** Test mode only: where a renewal stops the process (see TEST_KILL_IN_RENEWAL). */
  testKillInRenewal: 'before-commit' | 'after-commit' | null;
  /** Test mode only: this server hears the other servers' writes this much later (see TEST_FEED_DELAY_MS). */
  testFeedDelayMs: number;
  /** Delivery beyond the app (CONTRACT 7). */
  delivery: DeliveryConfig;
}

/** CONTRACT 7's variables, resolved. A channel that is null is off. */
export interface DeliveryConfig {
  /** Where users reach the web app, without a trailing slash. */
  publicUrl: string;
  vapid: VapidKeys | null;
  vapidSubject: string;
  smtpUrl: string | null;
  emailFrom: string;
  smsWebhook: { url: string; secret: string } | null;
  pushAfterMs: number;
  emailAfterMs: number;
  emailDigestIntervalMs: number;
  /** How often the recurring sweep queues the digests that are due (DEFAULTS.digestSweepIntervalMs). */
  digestSweepMs: number;
  smsAfterMs: number;
  /** One request to a push service or the SMS webhook, at most (DEFAULTS.deliveryRequestTimeoutMs). */
  requestTimeoutMs: number;
}

/** `host`, `host:port` or `*.domain`, lower case. */
const PUSH_HOST = /^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:\d{1,5})?$/;

const positiveInt = z
  .string()
  .regex(/^\d+$/, 'must be a whole number')
  .transform(Number)
  .pipe(z.number().int().positive());

const delay = z
  .string()
  .regex(/^\d+$/, 'must be a whole number of milliseconds')
  .transform(Number)
  .pipe(z.number().int().nonnegative().max(DEFAULTS.timestampMax));

const httpUrl = (what: string) =>
  z.url({ protocol: /^https?$/, error: `must be an http: or https: URL (${what})` });

const Env = z.object({
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: z
    .string()
    .regex(/^\d+$/, 'must be a port number')
    .transform(Number)
    .pipe(z.number().int().min(0).max(65535))
    .default(8787),
  DATA_DIR: z.string().min(1).default('./data'),
  UPLOAD_MAX_BYTES: positiveInt.optional(),
  JWT_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  JWT_PUBLIC_KEY: z
    .string()
    .refine((v) => v.includes('-----BEGIN PUBLIC KEY-----'), 'must be a PEM public key (-----BEGIN PUBLIC KEY-----)')
    .optional(),
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  REDIS_URL: z.url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// URL' }).optional(),
  /** Cluster mode: this node's name (metrics, presence); default host-pid-random. */
  NODE_ID: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1-64 letters, digits, dots, dashes or underscores').optional(),
  /** Cluster mode: the prefix of every Redis key and channel (several deployments on one Redis). */
  REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/, 'must be 1-64 letters, digits, dots, colons, dashes or underscores').default('parley:'),
  DRAIN_DELAY_MS: delay.optional(),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .optional(),
  WEB_DIST_DIR: z.string().optional(),
  COMPACTION_INTERVAL_MS: positiveInt.optional(),
  COMPACTION_MAX_LOG_UPDATES: positiveInt.optional(),
  CLEANUP_MAX_AGE_DAYS: z.string().regex(/^\d+(\.\d+)?$/, 'must be a number of days').transform(Number).optional(),
  CLEANUP_INTERVAL_MS: positiveInt.optional(),
  DEV_LOGIN: z.enum(['on', 'off']).optional(),
  PUSH_ENDPOINT_HOSTS: z
    .string()
    .transform((v) => v.split(',').map((h) => h.trim().toLowerCase()).filter(Boolean))
    .pipe(z.array(z.string().regex(PUSH_HOST, 'must be comma-separated host names, host:port or *.domain')).min(1))
    .optional(),
  HTTP_RATE_LIMIT_WINDOW_MS: positiveInt.optional(),
  HTTP_RATE_LIMIT_USER: positiveInt.optional(),
  HTTP_RATE_LIMIT_SERVICE: positiveInt.optional(),
  HTTP_RATE_LIMIT_IP: positiveInt.optional(),
  // --- Bounded live document (issue 9, item 2) ---
  LIVE_WINDOW_MESSAGES: positiveInt.optional(),
  /** Test servers only: stop the process with SIGKILL at this point of a renewal (the kill -9 test). */
  TEST_KILL_IN_RENEWAL: z.enum(['before-commit', 'after-commit']).optional(),
  TEST_FEED_DELAY_MS: positiveInt.optional(),
  PUBLIC_URL: httpUrl('where users reach the web app').optional(),
  VAPID_PUBLIC_KEY: z.string().optional(),
  VAPID_PRIVATE_KEY: z.string().optional(),
  VAPID_SUBJECT: z
    .string()
    .regex(/^(mailto:[^\s@]+@[^\s@]+|https:\/\/\S+)$/, 'must be a mailto: address or an https: URL')
    .default('mailto:admin@localhost'),
  SMTP_URL: z.url({ protocol: /^smtps?$/, error: 'must be smtp://[user:pass@]host:port or smtps://...' }).optional(),
  EMAIL_FROM: z.string().min(3).max(320).default('Parley <no-reply@localhost>'),
  SMS_WEBHOOK_URL: httpUrl("the SMS provider's webhook").optional(),
  SMS_WEBHOOK_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  PUSH_AFTER_MS: delay.optional(),
  EMAIL_AFTER_MS: delay.optional(),
  EMAIL_DIGEST_INTERVAL_MS: delay.optional(),
  DIGEST_SWEEP_MS: positiveInt.optional(),
  SMS_AFTER_MS: delay.optional(),
  DELIVERY_REQUEST_TIMEOUT_MS: positiveInt.optional(),
});

export class ConfigError extends Error {}

/** Empty variables count as unset, the way shells and .env files use them. */
function definedOnly(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1] !== ''));
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = Env.safeParse(definedOnly(env));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`${String(issue.path[0] ?? 'environment')}: ${issue.message}`);
  }
  const e = parsed.data;
  const mode = e.NODE_ENV;
  // Cluster mode is PostgreSQL (the one store every node shares) plus Redis (awareness, presence).
  if (e.REDIS_URL && !e.DATABASE_URL) {
    throw new ConfigError('REDIS_URL: cluster mode needs DATABASE_URL too (every node shares one PostgreSQL store); set it, or unset REDIS_URL for one server on SQLite');
  }
  const dataDir = resolve(e.DATA_DIR);
  let jwtSecret = e.JWT_SECRET?.replace(/\\n/g, '\n') ?? null;
  let jwtSecretGenerated = false;
  if (!jwtSecret && !e.JWT_PUBLIC_KEY) {
    if (mode === 'production') throw new ConfigError('JWT_SECRET: required in production (or set JWT_PUBLIC_KEY)');
    jwtSecret = devSecret(dataDir);
    jwtSecretGenerated = true;
  }
  if (mode === 'production' && e.DEV_LOGIN === 'on') throw new ConfigError('DEV_LOGIN: the dev login cannot be turned on in production');
  const delivery = deliveryConfig(e, mode, dataDir);
  return {
    host: e.HOST,
    port: e.PORT,
    dataDir,
    jwtSecret,
    jwtPublicKey: e.JWT_PUBLIC_KEY?.replace(/\\n/g, '\n') ?? null,
    jwtSecretGenerated,
    mode,
    logLevel: e.LOG_LEVEL,
    redisUrl: e.REDIS_URL ?? null,
    cluster: {
      nodeId: e.NODE_ID ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`,
      keyPrefix: e.REDIS_PREFIX,
      drainDelayMs: e.DRAIN_DELAY_MS ?? DEFAULTS.drainDelayMs,
    },
    databaseUrl: e.DATABASE_URL ?? null,
    webDistDir: resolve(e.WEB_DIST_DIR ?? join(import.meta.dirname, '../../client/dist')),
    compaction: {
      intervalMs: e.COMPACTION_INTERVAL_MS ?? DEFAULTS.compactionIntervalMs,
      maxUpdates: e.COMPACTION_MAX_LOG_UPDATES ?? DEFAULTS.compactionMaxLogUpdates,
      maxBytes: DEFAULTS.compactionMaxLogBytes,
      maxAgeMs: DEFAULTS.compactionMaxLogAgeMs,
      majorRatio: DEFAULTS.compactionMajorRatio,
    },
    cleanupMaxAgeMs: e.CLEANUP_MAX_AGE_DAYS !== undefined ? e.CLEANUP_MAX_AGE_DAYS * 86_400_000 : DEFAULTS.cleanupMaxAgeMs,
    cleanupIntervalMs: e.CLEANUP_INTERVAL_MS ?? DEFAULTS.cleanupIntervalMs,
    // A configured key means real users: minting tokens for anyone must then be asked for.
    devLogin: mode !== 'production' && (e.DEV_LOGIN ?? (jwtSecretGenerated ? 'on' : 'off')) === 'on',
    pushEndpointHosts: e.PUSH_ENDPOINT_HOSTS ?? DEFAULTS.pushEndpointHosts,
    liveWindow: e.LIVE_WINDOW_MESSAGES ?? DEFAULTS.liveWindowMessages,
    testKillInRenewal: mode === 'test' ? (e.TEST_KILL_IN_RENEWAL ?? null) : null,
    testFeedDelayMs: mode === 'test' ? (e.TEST_FEED_DELAY_MS ?? 0) : 0,
    httpRateLimit: {
      windowMs: e.HTTP_RATE_LIMIT_WINDOW_MS ?? DEFAULTS.httpRateWindowMs,
      perUser: e.HTTP_RATE_LIMIT_USER ?? DEFAULTS.httpRequestsPerWindowPerUser,
      perService: e.HTTP_RATE_LIMIT_SERVICE ?? DEFAULTS.httpRequestsPerWindowPerService,
      perIp: e.HTTP_RATE_LIMIT_IP ?? DEFAULTS.httpRequestsPerWindowPerIp,
    },
    uploadMaxBytes: e.UPLOAD_MAX_BYTES ?? DEFAULTS.uploadMaxBytes,
    delivery,
  };
}

/** CONTRACT 7: production pushes only with configured keys; dev generates them once. */
function deliveryConfig(e: z.infer<typeof Env>, mode: Config['mode'], dataDir: string): DeliveryConfig {
  if (Boolean(e.VAPID_PUBLIC_KEY) !== Boolean(e.VAPID_PRIVATE_KEY)) {
    throw new ConfigError(`${e.VAPID_PUBLIC_KEY ? 'VAPID_PRIVATE_KEY' : 'VAPID_PUBLIC_KEY'}: set both VAPID keys or neither`);
  }
  let vapid: VapidKeys | null = null;
  if (e.VAPID_PUBLIC_KEY && e.VAPID_PRIVATE_KEY) {
    vapid = { publicKey: e.VAPID_PUBLIC_KEY, privateKey: e.VAPID_PRIVATE_KEY };
    const error = vapidKeysError(vapid);
    if (error) throw new ConfigError(error);
  } else if (mode !== 'production') vapid = devVapidKeys(dataDir);
  if (e.SMS_WEBHOOK_URL && !e.SMS_WEBHOOK_SECRET) throw new ConfigError('SMS_WEBHOOK_SECRET: required with SMS_WEBHOOK_URL (the webhook calls are signed with it)');
  const host = e.HOST.includes(':') ? `[${e.HOST}]` : e.HOST;
  return {
    publicUrl: (e.PUBLIC_URL ?? `http://${host}:${e.PORT}`).replace(/\/+$/, ''),
    vapid,
    vapidSubject: e.VAPID_SUBJECT,
    smtpUrl: e.SMTP_URL ?? null,
    emailFrom: e.EMAIL_FROM,
    smsWebhook: e.SMS_WEBHOOK_URL && e.SMS_WEBHOOK_SECRET ? { url: e.SMS_WEBHOOK_URL, secret: e.SMS_WEBHOOK_SECRET } : null,
    pushAfterMs: e.PUSH_AFTER_MS ?? DEFAULTS.pushAfterMs,
    emailAfterMs: e.EMAIL_AFTER_MS ?? DEFAULTS.emailAfterMs,
    emailDigestIntervalMs: e.EMAIL_DIGEST_INTERVAL_MS ?? DEFAULTS.emailDigestIntervalMs,
    digestSweepMs: e.DIGEST_SWEEP_MS ?? DEFAULTS.digestSweepIntervalMs,
    smsAfterMs: e.SMS_AFTER_MS ?? DEFAULTS.smsAfterMs,
    requestTimeoutMs: e.DELIVERY_REQUEST_TIMEOUT_MS ?? DEFAULTS.deliveryRequestTimeoutMs,
  };
}

/** Dev mode keeps its generated secret in the data folder, so tokens survive a restart. */
function devSecret(dataDir: string): string {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, 'dev-jwt-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}
