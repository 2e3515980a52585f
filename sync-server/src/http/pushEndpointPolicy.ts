/**
 * Whether a push subscription's endpoint may be stored: `https:` without
 * credentials, on a host of the allow-list (CONTRACT 7, `PUSH_ENDPOINT_HOSTS`).
 * Entries are `host` (port 443), `host:port`, or `*.domain` for any subdomain
 * of domain (not domain itself). The server will later POST to this URL, so a
 * client must not be able to point it at `file:`, loopback or the intranet.
 */
export function pushEndpointAllowed(endpoint: string, hosts: readonly string[]): boolean {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return false;
  }
  if (url.protocol !== 'https:' || url.username !== '' || url.password !== '') return false;
  const host = url.hostname.toLowerCase();
  const port = url.port === '' ? '443' : url.port;
  return hosts.some((entry) => entryMatches(entry, host, port));
}

function entryMatches(entry: string, host: string, port: string): boolean {
  const [pattern = '', entryPort = '443'] = entry.toLowerCase().split(':');
  if (entryPort !== port) return false;
  if (!pattern.startsWith('*.')) return host === pattern;
  const domain = pattern.slice(1); // ".notify.windows.com"
  return host.endsWith(domain) && host.length > domain.length;
}

/**
 * A subscription's keys as a browser makes them (RFC 8291): `p256dh` an
 * uncompressed P-256 point (65 bytes, first 0x04), `auth` 16 bytes, both
 * base64url. Anything else could never be encrypted to, so it is refused
 * when subscribing rather than failing every push later.
 */
export function pushKeysError(keys: { p256dh: string; auth: string }): string | null {
  const decode = (v: string) => (/^[A-Za-z0-9_-]+={0,2}$/.test(v) ? Buffer.from(v, 'base64url') : null);
  const p256dh = decode(keys.p256dh);
  if (!p256dh || p256dh.length !== 65 || p256dh[0] !== 4) return 'keys.p256dh: must be a base64url uncompressed P-256 public key (65 bytes)';
  const auth = decode(keys.auth);
  if (!auth || auth.length !== 16) return 'keys.auth: must be a base64url 16-byte secret';
  return null;
}
