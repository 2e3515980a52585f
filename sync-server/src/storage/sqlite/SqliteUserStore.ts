import type { Database, Statement } from 'better-sqlite3';
import type { Contact, UserRecord, UserStore } from '../Storage';

type Row = { id: string; name: string | null; last_seen_at: number | null };

export class SqliteUserStore implements UserStore {
  private readonly upsertName: Statement<[string, string | null, number]>;
  private readonly upsertSeen: Statement<[string, number, number]>;
  private readonly one: Statement<[string], Row>;
  private readonly every: Statement<[], string>;

  constructor(private readonly db: Database) {
    this.upsertName = db.prepare(
      'INSERT INTO users (id, name, created_at) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET name = coalesce(excluded.name, users.name)',
    );
    this.upsertSeen = db.prepare(
      'INSERT INTO users (id, created_at, last_seen_at) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET last_seen_at = excluded.last_seen_at',
    );
    this.one = db.prepare('SELECT id, name, last_seen_at FROM users WHERE id = ?');
    this.every = db.prepare('SELECT id FROM users ORDER BY id').pluck() as unknown as Statement<[], string>;
  }

  async remember(id: string, name?: string | null): Promise<void> {
    this.upsertName.run(id, name ?? null, Date.now());
  }

  async setLastSeen(id: string, at: number): Promise<void> {
    this.upsertSeen.run(id, at, at);
  }

  async get(ids: string[]): Promise<UserRecord[]> {
    const rows: UserRecord[] = [];
    for (const id of ids) {
      const r = this.one.get(id);
      if (r) rows.push({ id: r.id, name: r.name, lastSeenAt: r.last_seen_at });
    }
    return rows;
  }

  async all(): Promise<string[]> {
    return this.every.all();
  }

  async setContact(id: string, contact: { email?: string | null; phone?: string | null }): Promise<void> {
    this.db.transaction(() => {
      this.db.prepare('INSERT INTO users (id, created_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING').run(id, Date.now());
      if (contact.email !== undefined) this.db.prepare('UPDATE users SET email = ? WHERE id = ?').run(contact.email, id);
      if (contact.phone !== undefined) this.db.prepare('UPDATE users SET phone = ? WHERE id = ?').run(contact.phone, id);
    })();
  }

  async rememberClaims(id: string, claims: { email: string | null; phone: string | null }): Promise<void> {
    this.db
      .prepare('INSERT INTO users (id, created_at, email_claim, phone_claim) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET email_claim = excluded.email_claim, phone_claim = excluded.phone_claim')
      .run(id, Date.now(), claims.email, claims.phone);
  }

  async contact(id: string): Promise<Contact> {
    const row = this.db.prepare('SELECT coalesce(email, email_claim) AS email, coalesce(phone, phone_claim) AS phone FROM users WHERE id = ?').get(id) as Contact | undefined;
    return { email: row?.email ?? null, phone: row?.phone ?? null };
  }
}
