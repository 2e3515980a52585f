// Parley's service worker: keeps the app shell (index.html and the built
// assets) so the app opens, and a reload works, with no network; and shows
// Web Push notifications (CONTRACT section 7) and opens their conversation on
// a click. Data never goes through here: documents live in IndexedDB and sync
// over the WebSocket.
const CACHE = 'parley-shell-v2';
const ICON = '/icon-192.png';
const isShell = (url) => url.origin === self.location.origin && !/^\/(api|sync|healthz|metrics)(\/|$)/.test(url.pathname);

self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      const response = await fetch('/', { cache: 'no-store' });
      const html = await response.clone().text();
      await cache.put('/', response);
      const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]);
      await cache.addAll([...assets, ICON]);
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const key of await caches.keys()) if (key !== CACHE) await caches.delete(key);
      await self.clients.claim();
    })(),
  );
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== 'GET' || !isShell(url)) return;
  event.respondWith(
    (async () => {
      const cache = await caches.open(CACHE);
      try {
        const response = await fetch(request);
        if (response.ok) await cache.put(request.mode === 'navigate' ? '/' : request, response.clone());
        return response;
      } catch (error) {
        const cached = await cache.match(request.mode === 'navigate' ? '/' : request);
        if (cached) return cached;
        throw error;
      }
    })(),
  );
});

// --- Web Push -------------------------------------------------------------
// The payload is the server's {id, kind, title, body, url, count?}. A push
// must always show something (userVisibleOnly), so one that cannot be read
// still shows a plain notification rather than none.

/** Bounded strings: the payload comes over the network. */
const text = (value, max) => (typeof value === 'string' ? value.slice(0, max) : '');

/** Only this app's own pages open from a notification; any other URL opens the app's start page. */
function appUrl(value) {
  try {
    const url = new URL(typeof value === 'string' ? value : '/', self.location.origin);
    return url.origin === self.location.origin ? url.href : new URL('/', self.location.origin).href;
  } catch {
    return new URL('/', self.location.origin).href;
  }
}

function readPush(data) {
  try {
    const json = data ? data.json() : null;
    if (json && typeof json === 'object') return json;
  } catch {
    // not JSON: fall through
  }
  return {};
}

self.addEventListener('push', (event) => {
  const payload = readPush(event.data);
  const id = text(payload.id, 200) || 'parley';
  const count = Number.isInteger(payload.count) && payload.count > 1 ? payload.count : 1;
  const title = text(payload.title, 200) || 'Parley';
  const body = text(payload.body, 1000) || (count > 1 ? `${count} new notifications` : 'You have a new notification');
  event.waitUntil(
    self.registration.showNotification(title, {
      body,
      icon: ICON,
      badge: ICON,
      // Same tag: a newer version of a coalesced notification replaces the older one on screen.
      tag: id,
      renotify: true,
      timestamp: Date.now(),
      data: { id, kind: text(payload.kind, 64), url: appUrl(payload.url) },
    }),
  );
});

/**
 * A click focuses a tab of the app that is already open and shows the
 * notification's page there (the tab is told by message, so it keeps its
 * state; a tab that does not answer is navigated), or opens a new tab.
 */
self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const url = appUrl(event.notification.data && event.notification.data.url);
  event.waitUntil(
    (async () => {
      const tabs = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
      const tab = tabs.find((client) => new URL(client.url).origin === self.location.origin);
      if (!tab) {
        await self.clients.openWindow(url);
        return;
      }
      tab.postMessage({ type: 'parley:open', url });
      // Focus needs the click's user activation; a tab that stays behind still shows the page.
      await tab.focus().catch(() => undefined);
    })(),
  );
});
