import pg from 'pg';
import { z } from 'zod';
import type { DocumentEvent } from '../Storage';
import { createClient, type PoolOptions } from './PgPool';
import { lit } from './pgLiteral';

/**
 * The announcements of document writes between servers sharing one
 * PostgreSQL (issue 15): every append and renewal transaction also runs
 * `pg_notify`, which PostgreSQL delivers to every listening session only
 * after COMMIT, in commit order, and never for a rolled-back transaction. So
 * a server hears of exactly what is durable, in the order it became so.
 *
 * One channel per schema (notifications are per database, and tests share
 * one). A payload must stay below 8,000 bytes: an update up to
 * INLINE_UPDATE_MAX_BYTES travels in it (base64), a larger one by its log
 * position only, and listeners read it from the log.
 */
const CHANNEL_SQL = "'parley_doc:' || current_schema()";
const INLINE_UPDATE_MAX_BYTES = 5_000;

/** The statement that inserts an update (`insert` ends with `RETURNING seq`) and announces it, in one. */
export function announceUpdate(insert: string, what: { doc: string; node: string; generation: number; update: Uint8Array }): string {
  const inline = what.update.byteLength <= INLINE_UPDATE_MAX_BYTES ? Buffer.from(what.update.buffer, what.update.byteOffset, what.update.byteLength).toString('base64') : null;
  return `WITH ins AS (${insert})
    SELECT pg_notify(${CHANNEL_SQL}, json_build_object('t', 'u', 'd', ${lit(what.doc)}, 'n', ${lit(what.node)}, 'g', ${lit(what.generation)},
                                                         's', (SELECT seq FROM ins), 'u', ${lit(inline)}::text)::text)`;
}

export function announceRenewal(what: { doc: string; node: string; generation: number }): string {
  return `SELECT pg_notify(${CHANNEL_SQL}, json_build_object('t', 'r', 'd', ${lit(what.doc)}, 'n', ${lit(what.node)}, 'g', ${lit(what.generation)})::text)`;
}

/** What a payload may be: anything else on the channel is dropped (never trust a channel's event). */
const Payload = z.discriminatedUnion('t', [
  z.object({ t: z.literal('u'), d: z.string().min(1), n: z.string().min(1), g: z.number().int().min(0), s: z.number().int().positive(), u: z.string().nullable() }),
  z.object({ t: z.literal('r'), d: z.string().min(1), n: z.string().min(1), g: z.number().int().min(0) }),
]);

export function parseAnnouncement(text: string): DocumentEvent | null {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return null;
  }
  const parsed = Payload.safeParse(json);
  if (!parsed.success) return null;
  const p = parsed.data;
  if (p.t === 'r') return { type: 'replaced', doc: p.d, node: p.n, generation: p.g };
  return { type: 'update', doc: p.d, node: p.n, generation: p.g, seq: p.s, update: p.u === null ? null : new Uint8Array(Buffer.from(p.u, 'base64')) };
}

/** Backoff of the LISTEN connection's reconnects. */
const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 2_000;

/**
 * The one LISTEN session of a server. When it drops (PostgreSQL restarted,
 * the network), it reconnects with backoff and then reports `resync`: what
 * was announced meanwhile is lost, so the listener reloads what it holds.
 */
export class PgDocFeed {
  private client: pg.Client | null = null;
  private stopped = false;
  private retryMs = RECONNECT_MIN_MS;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly options: PoolOptions,
    private readonly listener: (event: DocumentEvent) => void,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Resolves once listening (the first connection must succeed: the server is starting). */
  async start(): Promise<void> {
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = createClient({ ...this.options, applicationName: `${this.options.applicationName ?? 'parley'}-listen` });
    try {
      await client.connect();
      const schema = (await client.query<{ s: string }>('SELECT current_schema() AS s')).rows[0]!.s;
      client.on('notification', (message) => {
        const event = message.payload === undefined ? null : parseAnnouncement(message.payload);
        if (event) this.listener(event);
      });
      await client.query(`LISTEN ${pg.escapeIdentifier(`parley_doc:${schema}`)}`);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    if (this.stopped) return void (await client.end().catch(() => undefined));
    this.client = client;
    this.retryMs = RECONNECT_MIN_MS;
    client.once('end', () => {
      if (this.client !== client || this.stopped) return;
      this.client = null;
      this.scheduleReconnect();
    });
  }

  private scheduleReconnect(): void {
    this.timer = setTimeout(() => {
      this.connect().then(
        () => this.stopped || this.listener({ type: 'resync' }),
        (error: unknown) => {
          this.onError(error);
          this.retryMs = Math.min(this.retryMs * 2, RECONNECT_MAX_MS);
          if (!this.stopped) this.scheduleReconnect();
        },
      );
    }, this.retryMs);
    this.timer.unref();
  }
}
