import { defineConfig } from 'vitest/config';

/**
 * Three projects. `unit`: the pure modules (plans, SQL builder, lanes, parameters, presets' step tables, key
 * crypto, config parsing), which start nothing: `npm run test:unit` runs them in seconds. `static`: checks of the
 * project as a whole that start no server. `integration`: every other test, against the real Temporal dev
 * server and PostgreSQL its global setup starts. `npm test` runs all three.
 */
export default defineConfig({
  test: {
    // Temporal's native worker runtime is happiest in its own process, not a worker thread.
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default', ['json', { outputFile: 'test/.artifacts/results.json' }]],
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], testTimeout: 30_000 },
      },
      {
        extends: true,
        test: { name: 'static', include: ['test/static/**/*.test.ts'], testTimeout: 300_000 },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          // test/scratch/ holds throwaway test files that test/static/ runs in a child `npm test`; only that child
          // (MAINT_TEST_SCRATCH=1) collects them, so one a killed run left behind never fails a real run.
          exclude: ['test/unit/**', 'test/static/**', ...(process.env.MAINT_TEST_SCRATCH === '1' ? [] : ['test/scratch/**'])],
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 900_000,
        },
      },
    ],
  },
});
