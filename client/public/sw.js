// Parley's service worker: keeps the app shell (index.html and the built
// assets) so the app opens, and a reload works, with no network. Data never
// goes through here: documents live in IndexedDB and sync over the WebSocket.
const CACHE = 'parley-shell-v1';
const isShell = (url) => url.origin === self.location.origin && !/^\/(api|sync|healthz|metrics)(\/|$)/.test(url.pathname);

self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      const response = await fetch('/', { cache: 'no-store' });
      const html = await response.clone().text();
      await cache.put('/', response);
      const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]);
      await cache.addAll(assets);
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
