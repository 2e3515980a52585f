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
