import { devLogin } from '../sdk/ApiClient';
import { Session } from '../sdk/Session';
import type { SessionToken } from '../sdk/types';

/** The signed-in user, kept in localStorage so a reload (even offline) stays signed in. */
const KEY = 'parley.login';

export function storedLogin(): SessionToken | null {
  try {
    const value = JSON.parse(localStorage.getItem(KEY) ?? 'null') as SessionToken | null;
    return value && typeof value.userId === 'string' && typeof value.token === 'string' ? value : null;
  } catch {
    return null;
  }
}

export const saveLogin = (login: SessionToken): void => localStorage.setItem(KEY, JSON.stringify(login));
export const forgetLogin = (): void => localStorage.removeItem(KEY);

export async function login(userId: string, name?: string): Promise<SessionToken> {
  const token = await devLogin(location.origin, userId, name);
  saveLogin(token);
  return token;
}

export function sessionFor(login: SessionToken): Session {
  const wsProtocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return new Session({
    url: `${wsProtocol}//${location.host}/sync`,
    apiBase: location.origin,
    identity: { userId: login.userId, name: login.name },
    token: login,
    // Dev login doubles as the refresh: a real deployment plugs its own token endpoint in here.
    fetchToken: () => devLogin(location.origin, login.userId, login.name),
    onToken: saveLogin,
  });
}

/**
 * Sign-out reaches every tab of this device: a tab still signed in as that
 * user would otherwise keep (and rewrite) the data the sign-out erased.
 */
const SIGN_OUT_CHANNEL = 'parley:sign-out';

export function announceSignOut(userId: string): void {
  if (typeof BroadcastChannel === 'undefined') return;
  const channel = new BroadcastChannel(SIGN_OUT_CHANNEL);
  channel.postMessage({ userId });
  channel.close();
}

export function onSignOutElsewhere(userId: string, signOut: () => void): () => void {
  if (typeof BroadcastChannel === 'undefined') return () => undefined;
  const channel = new BroadcastChannel(SIGN_OUT_CHANNEL);
  channel.onmessage = (event: MessageEvent<{ userId?: unknown }>) => {
    if (event.data?.userId === userId) signOut();
  };
  return () => channel.close();
}
