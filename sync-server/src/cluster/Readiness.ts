/**
 * What `/healthz` answers. Ready once the node has opened its store (migrated,
 * connected to PostgreSQL), started its work and reached Redis once (cluster
 * mode); not ready again from the moment it drains. A Redis outage after
 * that does not make the node unready: every node shares the one Redis, so
 * failing them all would take chat down for what only degrades (awareness
 * and presence across nodes); the body says `redis: "down"` instead.
 */
export class Readiness {
  private started = false;
  private draining = false;

  constructor(private readonly redis: { up: boolean; reached: boolean } | null) {}

  markStarted(): void {
    this.started = true;
  }

  markDraining(): void {
    this.draining = true;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /** The answer of /healthz: 200 with `ok`, else 503 with why. */
  status(): { ready: boolean; body: { status: 'ok' | 'starting' | 'draining'; redis?: 'up' | 'down' } } {
    const redis = this.redis ? { redis: this.redis.up ? ('up' as const) : ('down' as const) } : {};
    if (this.draining) return { ready: false, body: { status: 'draining', ...redis } };
    if (!this.started || (this.redis && !this.redis.reached)) return { ready: false, body: { status: 'starting', ...redis } };
    return { ready: true, body: { status: 'ok', ...redis } };
  }
}
