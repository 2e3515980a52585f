/**
 * Whether a `Host` header names this machine: `localhost` (and `*.localhost`),
 * 127.0.0.0/8 or `[::1]`, with or without a port. A page on another site that
 * rebinds its own DNS name to 127.0.0.1 sends its own name here, so answering
 * loopback names only keeps it from reaching local-only endpoints.
 */
export function isLoopbackHost(header: string | undefined): boolean {
  if (!header) return false;
  const value = header.trim().toLowerCase();
  if (value.startsWith('[')) return /^\[::1\](:\d{1,5})?$/.test(value);
  const host = value.replace(/:\d{1,5}$/, '');
  return host === 'localhost' || host.endsWith('.localhost') || /^127(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/.test(host);
}
