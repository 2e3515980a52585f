/**
 * The claims of a JWT, read without checking its signature: for display only
 * (the server checks tokens). Null when the token is not a readable JWT.
 */
export function tokenClaims(token: string): Record<string, unknown> | null {
  const payload = token.split('.')[1];
  if (!payload) return null;
  try {
    const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(payload.length / 4) * 4, '='));
    const claims: unknown = JSON.parse(new TextDecoder().decode(Uint8Array.from(json, (c) => c.charCodeAt(0))));
    return typeof claims === 'object' && claims !== null ? (claims as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** The `email` claim of the token, where the server sends email digests (CONTRACT section 7). */
export function emailClaim(token: string | undefined): string | null {
  const email = token ? tokenClaims(token)?.email : undefined;
  return typeof email === 'string' && email.length > 0 ? email : null;
}
