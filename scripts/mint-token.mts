/**
 * Prints a JWT for a user: `npm run mint-token -- alice --roles admin --name "Alice" --ttl 3600`.
 * Uses JWT_SECRET, or the dev secret kept in DATA_DIR (default ./data).
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { SignJWT } from 'jose';
import { Id, Role } from '@parley/schema';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    roles: { type: 'string', default: '' },
    name: { type: 'string' },
    ttl: { type: 'string', default: '3600' },
  },
});

function fail(message: string): never {
  process.stderr.write(`mint-token: ${message}\nusage: npm run mint-token -- <userId> [--roles admin,service] [--name "Display Name"] [--ttl seconds]\n`);
  process.exit(2);
}

const userId = Id.safeParse(positionals[0]);
if (!userId.success) fail('give a user id (1-64 of [A-Za-z0-9_.-])');
const roles = values.roles ? values.roles.split(',') : [];
for (const role of roles) if (!Role.safeParse(role).success) fail(`unknown role "${role}" (admin, service)`);
const ttl = Number(values.ttl);
if (!Number.isInteger(ttl) || ttl <= 0) fail('--ttl must be a positive number of seconds');

function secret(): string {
  if (process.env.JWT_SECRET) return process.env.JWT_SECRET;
  const file = join(resolve(process.env.DATA_DIR ?? './data'), 'dev-jwt-secret');
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    fail(`set JWT_SECRET, or start the server once in dev mode so ${file} exists`);
  }
}

const now = Math.floor(Date.now() / 1000);
const token = await new SignJWT({ ...(values.name && { name: values.name }), ...(roles.length && { roles }) })
  .setProtectedHeader({ alg: 'HS256' })
  .setSubject(userId.data)
  .setIssuedAt(now)
  .setExpirationTime(now + ttl)
  .sign(new TextEncoder().encode(secret()));
process.stdout.write(`${token}\n`);
