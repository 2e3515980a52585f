import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import webpush from 'web-push';
import { z } from 'zod';

export interface VapidKeys {
  publicKey: string;
  privateKey: string;
}

const Stored = z.strictObject({ publicKey: z.string().min(1), privateKey: z.string().min(1) });

/** A P-256 public key is 65 bytes uncompressed, a private key 32: as base64url, what PushManager.subscribe and web-push take. */
export function vapidKeysError(keys: VapidKeys): string | null {
  const bytes = (v: string) => (/^[A-Za-z0-9_-]+$/.test(v) ? Buffer.from(v, 'base64url').length : -1);
  if (bytes(keys.publicKey) !== 65) return 'VAPID_PUBLIC_KEY: must be a base64url P-256 public key (65 bytes, as web-push generate-vapid-keys prints it)';
  if (bytes(keys.privateKey) !== 32) return 'VAPID_PRIVATE_KEY: must be a base64url P-256 private key (32 bytes)';
  return null;
}

/**
 * Dev mode keeps generated VAPID keys in the data folder: browsers subscribe
 * against the public key, so a new key at every start would orphan every
 * subscription.
 */
export function devVapidKeys(dataDir: string): VapidKeys {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, 'dev-vapid-keys.json');
  if (existsSync(file)) {
    const stored = Stored.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    if (stored.success && !vapidKeysError(stored.data)) return stored.data;
  }
  const keys = webpush.generateVAPIDKeys();
  writeFileSync(file, JSON.stringify(keys), { mode: 0o600 });
  return keys;
}
