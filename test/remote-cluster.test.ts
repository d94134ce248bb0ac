import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { loadConfig } from '../src/settings/environment.js';
import { checkWorkerHealth } from '../src/healthcheck.js';
import { createWorker } from '../src/worker.js';
import { Catalogue } from '../src/catalogue/index.js';
import { maint } from './support/cli.js';
import { createTestDatabase, seedTokens, testLogger, uniqueName, type TestDatabase } from './support/env.js';

// A server reached the way a remote or cloud cluster is: through a profile of Temporal's config file (the one
// the `temporal` CLI reads), never through what `npm start` recorded. The dev server takes no TLS, so TLS and
// API keys are checked as the options they produce (test/unit/temporal-env.test.ts).
let dir: string;
let db: TestDatabase;
let env: Record<string, string>;
let stop: () => Promise<void>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'auth-maintenance-profile-'));
  const configFile = join(dir, 'temporal.toml');
  await writeFile(
    configFile,
    `[profile.default]\naddress = "127.0.0.1:1"\n\n[profile.staging]\naddress = "${inject('temporalAddress')}"\nnamespace = "default"\n[profile.staging.grpc_meta]\nx-team = "auth"\n`,
  );
  env = { TEMPORAL_CONFIG_FILE: configFile, TEMPORAL_PROFILE: 'staging', TEMPORAL_TASK_QUEUE: uniqueName('tq-profile') };
  db = await createTestDatabase();
  // The worker connects as start.ts does: address, namespace and security from the configuration.
  const config = loadConfig(env);
  expect(config).toMatchObject({ temporalAddress: inject('temporalAddress'), temporalAddressExplicit: true, namespace: 'default' });
  expect(config.temporalSecurity.metadata).toEqual({ 'x-team': 'auth' });
  const { worker, connection } = await createWorker({ settings: { config, catalogue: new Catalogue() }, orm: db.orm, logger: testLogger, workflowBundle: { codePath: inject('workflowBundlePath') } });
  const running = worker.run();
  stop = async () => {
    worker.shutdown();
    await running;
    await connection.close();
  };
});

afterAll(async () => {
  await stop?.();
  await db?.close();
  await rm(dir, { recursive: true, force: true });
});

it('the CLI reaches the server named by TEMPORAL_PROFILE of TEMPORAL_CONFIG_FILE and runs a purge on the worker that did too', async () => {
  await seedTokens(db, [{ expiresAt: new Date(Date.now() - 3_600_000) }, { expiresAt: new Date(Date.now() + 3_600_000) }]);
  const r = await maint(['run', 'purge-expired-tokens', '--wait', '--json'], env);
  expect(r.code, r.stderr).toBe(0);
  expect(JSON.parse(r.stdout)).toMatchObject({ status: 'completed', deleted: 1 });
});

it('an unknown profile is refused by name before anything is contacted', async () => {
  const r = await maint(['run', 'purge-expired-tokens'], { ...env, TEMPORAL_PROFILE: 'prod' });
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/^error: TEMPORAL_PROFILE: .*Profile 'prod' not found/);
});

it("the image's health check: healthy while this host's worker polls the queue, not for another host or queue", async () => {
  const deadline = Date.now() + 20_000;
  let result = await checkWorkerHealth(env);
  while (!result.healthy && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 500));
    result = await checkWorkerHealth(env);
  }
  expect(result).toMatchObject({ healthy: true, message: expect.stringContaining(`polls ${env.TEMPORAL_TASK_QUEUE}`) });
  expect(await checkWorkerHealth(env, 'another-container')).toMatchObject({ healthy: false, message: expect.stringContaining('no worker of another-container') });
  expect((await checkWorkerHealth({ ...env, TEMPORAL_TASK_QUEUE: uniqueName('nobody') })).healthy).toBe(false);
});
