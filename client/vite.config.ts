import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { precompress } from './precompress';

const server = process.env.PARLEY_DEV_SERVER ?? 'http://127.0.0.1:8787';

export default defineConfig({
  plugins: [react(), precompress()],
  // One chunk of ~450 KB raw (~135 KB gzip): React, Yjs, zod (from the schema) and the app.
  // Its name carries a content hash, so the server caches it as immutable; .br/.gz copies are written beside it.
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true, chunkSizeWarningLimit: 700 },
  server: {
    proxy: {
      '/api': server,
      '/healthz': server,
      '/sync': { target: server.replace(/^http/, 'ws'), ws: true },
    },
  },
});
