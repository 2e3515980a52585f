import { defineConfig } from 'vitest/config';

const shared = { testTimeout: 60_000, hookTimeout: 60_000 };

export default defineConfig({
  test: {
    // Tests start real servers and browsers; two cores do not take more than two files at once.
    maxWorkers: 2,
    fileParallelism: true,
    projects: [
      {
        test: {
          ...shared,
          name: 'node',
          include: ['schema/src/**/*.test.ts', 'sync-server/src/**/*.test.ts', 'client/src/**/*.test.ts', 'scripts/**/*.test.ts', 'e2e/**/*.test.ts'],
          exclude: ['e2e/browser/**', '**/node_modules/**'],
        },
      },
      {
        test: {
          ...shared,
          name: 'browser',
          include: ['e2e/browser/**/*.test.ts'],
          // A real Chromium on two shared cores: one retry in CI, so a scheduling hiccup does not
          // block a landing. A test that fails twice still fails, and retries show in the report.
          retry: process.env.CI ? 1 : 0,
        },
      },
    ],
  },
});
