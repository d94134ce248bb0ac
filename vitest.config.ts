import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    // Temporal's native worker runtime is happiest in its own process, not a worker thread.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 180_000,
    hookTimeout: 900_000,
    reporters: ['default', ['json', { outputFile: 'test/.artifacts/results.json' }]],
  },
});
