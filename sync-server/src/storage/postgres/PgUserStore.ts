import type pg from 'pg';
import type { Contact, UserRecord, UserStore } from '../Storage';
import { transaction } from './PgPool';

export class PgUserStore implements UserStore {
  constructor(private readonly pool: pg.Pool) {}

  async remember(id: string, name?: string | null): Promise<void> {
    await this.pool.query('INSERT INTO users (id, name, created_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET name = coalesce(excluded.name, users.name)', [
      id,
      name ?? null,
      Date.now(),
    ]);
  }

  async setLastSeen(id: string, at: number): Promise<void> {
    await this.pool.query('INSERT INTO users (id, created_at, last_seen_at) VALUES ($1, $2, $2) ON CONFLICT (id) DO UPDATE SET last_seen_at = excluded.last_seen_at', [id, at]);
  }

  /** In the order asked for, unknown ids left out. */
  async get(ids: string[]): Promise<UserRecord[]> {
    if (ids.length === 0) return [];
    const result = await this.pool.query<{ id: string; name: string | null; last_seen_at: number | null }>(
      'SELECT u.id, u.name, u.last_seen_at FROM unnest($1::text[]) WITH ORDINALITY AS asked (id, n) JOIN users u ON u.id = asked.id ORDER BY asked.n',
      [ids],
    );
    return result.rows.map((r) => ({ id: r.id, name: r.name, lastSeenAt: r.last_seen_at }));
  }

  async all(): Promise<string[]> {
    return (await this.pool.query<{ id: string }>('SELECT id FROM users ORDER BY id')).rows.map((r) => r.id);
  }

  async setContact(id: string, contact: { email?: string | null; phone?: string | null }): Promise<void> {
    await transaction(this.pool, async (client) => {
      await client.query('INSERT INTO users (id, created_at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING', [id, Date.now()]);
      if (contact.email !== undefined) await client.query('UPDATE users SET email = $1 WHERE id = $2', [contact.email, id]);
      if (contact.phone !== undefined) await client.query('UPDATE users SET phone = $1 WHERE id = $2', [contact.phone, id]);
    });
  }

  async rememberClaims(id: string, claims: { email: string | null; phone: string | null }): Promise<void> {
    await this.pool.query(
      'INSERT INTO users (id, created_at, email_claim, phone_claim) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO UPDATE SET email_claim = excluded.email_claim, phone_claim = excluded.phone_claim',
      [id, Date.now(), claims.email, claims.phone],
    );
  }

  async contact(id: string): Promise<Contact> {
    const row = (await this.pool.query<Contact>('SELECT coalesce(email, email_claim) AS email, coalesce(phone, phone_claim) AS phone FROM users WHERE id = $1', [id])).rows[0];
    return { email: row?.email ?? null, phone: row?.phone ?? null };
  }
}
