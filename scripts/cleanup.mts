/**
 * Runs the scheduled clean-up now on a running server:
 *   npm run cleanup            (uses JWT_SECRET or the dev secret in DATA_DIR, and PORT/HOST)
 * It asks the server (POST /api/admin/cleanup) rather than touching SQLite
 * itself, so the documents the server holds open stay in step. Idempotent.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SignJWT } from 'jose';

const host = process.env.HOST ?? '127.0.0.1';
const port = process.env.PORT ?? '8787';
const secret = process.env.JWT_SECRET ?? readFileSync(join(resolve(process.env.DATA_DIR ?? './data'), 'dev-jwt-secret'), 'utf8').trim();
const now = Math.floor(Date.now() / 1000);
const token = await new SignJWT({ roles: ['service'] })
  .setProtectedHeader({ alg: 'HS256' })
  .setSubject('cleanup-script')
  .setExpirationTime(now + 300)
  .sign(new TextEncoder().encode(secret));
const response = await fetch(`http://${host}:${port}/api/admin/cleanup`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
const body = await response.text();
if (!response.ok) {
  process.stderr.write(`cleanup: ${response.status} ${body}\n`);
  process.exit(1);
}
process.stdout.write(`${body}\n`);
