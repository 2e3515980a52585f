import { ApiError, type ApiClient } from '../sdk/ApiClient';

/**
 * Web Push on this device (CONTRACT section 7): the browser's permission,
 * the service worker's push subscription made with the server's VAPID key,
 * and the subscription handed to the server, which then pushes a
 * notification while this user is away. Every step that can fail says why in
 * one sentence the preferences page shows.
 */
export type PushResult = { on: true } | { on: false; message: string };

/** What the preferences page shows before anyone clicks. */
export type PushStatus = 'unsupported' | 'blocked' | 'off' | 'on';

const SERVICE_WORKER = '/sw.js';

const supported = (): boolean => typeof window !== 'undefined' && 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window;

export async function pushStatus(): Promise<PushStatus> {
  if (!supported()) return 'unsupported';
  if (Notification.permission === 'denied') return 'blocked';
  const registration = await navigator.serviceWorker.getRegistration();
  const subscription = await registration?.pushManager.getSubscription();
  return Notification.permission === 'granted' && subscription ? 'on' : 'off';
}

/** Asks the browser, subscribes this device and registers the subscription with the server. */
export async function enablePush(api: ApiClient): Promise<PushResult> {
  if (!supported()) return off('This browser cannot show push notifications.');
  // Asked first, while the click still counts as the user's gesture.
  const permission = await Notification.requestPermission();
  if (permission !== 'granted') return off('Notifications are blocked for this site: allow them in the browser’s site settings, then try again.');
  await navigator.serviceWorker.register(SERVICE_WORKER);
  const registration = await navigator.serviceWorker.ready;
  const key = await vapidKey(api);
  if (typeof key !== 'string') return key;
  let subscription: PushSubscription;
  try {
    subscription = await subscribe(registration, key);
  } catch (error) {
    return off(`This browser could not subscribe to push (${error instanceof Error ? error.message : String(error)}).`);
  }
  try {
    await api.request('POST', '/push/subscriptions', subscription.toJSON());
  } catch (error) {
    await subscription.unsubscribe().catch(() => false);
    return off(`The server refused this device’s subscription: ${error instanceof Error ? error.message : String(error)}`);
  }
  return { on: true };
}

/**
 * Ends push on this device: the server forgets the subscription, then the
 * browser drops it. Used by "Turn off" and on sign-out, before the token goes.
 */
export async function disablePush(api: ApiClient): Promise<void> {
  if (!supported()) return;
  const registration = await navigator.serviceWorker.getRegistration();
  const subscription = await registration?.pushManager.getSubscription();
  if (!subscription) return;
  try {
    await api.request('DELETE', '/push/subscriptions', { endpoint: subscription.endpoint });
  } catch (error) {
    // Already gone on the server is what we wanted; anything else still drops the browser's side.
    if (!(error instanceof ApiError && error.status === 404)) console.warn('push: the server kept the subscription', error);
  } finally {
    await subscription.unsubscribe().catch(() => false);
  }
}

const off = (message: string): PushResult => ({ on: false, message });

async function vapidKey(api: ApiClient): Promise<string | PushResult> {
  try {
    const { key } = await api.request<{ key?: unknown }>('GET', '/push/vapid-public-key');
    if (typeof key === 'string' && key.length > 0) return key;
    return off('Push is not set up on this server (it gave no push key): notifications reach you in the app and by email.');
  } catch (error) {
    if (error instanceof ApiError && (error.status === 404 || error.status === 503)) {
      return off('Push is not set up on this server (it has no push key): notifications reach you in the app and by email.');
    }
    return off(`The server’s push key could not be fetched: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** A subscription under the server's key; one made under another key (the server's keys changed) is replaced. */
async function subscribe(registration: ServiceWorkerRegistration, key: string): Promise<PushSubscription> {
  const applicationServerKey = base64UrlToBytes(key);
  const existing = await registration.pushManager.getSubscription();
  if (existing) {
    const current = existing.options.applicationServerKey;
    if (current && sameBytes(new Uint8Array(current), applicationServerKey)) return existing;
    await existing.unsubscribe();
  }
  return registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey });
}

export function base64UrlToBytes(text: string): Uint8Array<ArrayBuffer> {
  const base64 = text.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(text.length / 4) * 4, '=');
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((v, i) => v === b[i]);
