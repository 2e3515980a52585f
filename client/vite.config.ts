import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

const server = process.env.PARLEY_DEV_SERVER ?? 'http://127.0.0.1:8787';

export default defineConfig({
  plugins: [react()],
  // One chunk of ~450 KB raw (~135 KB gzip): React, Yjs, zod (from the schema) and the app.
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true, chunkSizeWarningLimit: 700 },
  server: {
    proxy: {
      '/api': server,
      '/healthz': server,
      '/sync': { target: server.replace(/^http/, 'ws'), ws: true },
    },
  },
});
