import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { Catalogue } from '../src/catalogue/index.js';
import { startDevServer, type DevServer } from '../src/local/dev-server.js';
import { freePort } from '../src/local/ports.js';
import { createTestDatabase, testLogger, uniqueName, until, type TestDatabase } from './support/env.js';

// The image's process on a server that has never seen this tool: `node bin/start.mjs --external` (the Dockerfile's
// CMD) against a Temporal server started fresh here, and `node bin/healthcheck.mjs` (its HEALTHCHECK), both running
// the compiled dist/ as the image does.
//
// The dev server reads search attributes through on every use (temporalio/cli v1.5.1 temporalcli/commands.server.go
// sets system.forceSearchAttributesCacheRefreshOnRead, "so users don't have to wait for eventual consistency"); a
// production server (temporalio/server, as docker-compose.yml runs it) does not, and refuses new search attributes
// until its namespace cache refreshes. This server is started as production runs it.
let server: DevServer;
let client: Client;
let db: TestDatabase;
let worker: ChildProcess | undefined;
let output = '';
const taskQueue = uniqueName('tq-image');

beforeAll(async () => {
  server = await startDevServer({
    cliPath: inject('temporalCliPath'),
    port: await freePort(),
    logger: testLogger,
    dynamicConfig: { 'system.forceSearchAttributesCacheRefreshOnRead': false },
  });
  client = new Client({ connection: await Connection.connect({ address: server.address }) });
  db = await createTestDatabase();
});

afterAll(async () => {
  if (worker && worker.exitCode === null && worker.signalCode === null) {
    worker.kill('SIGINT');
    await once(worker, 'exit');
  }
  await client?.connection.close();
  await db?.close();
  await server?.stop();
});

const imageEnv = () => ({
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  NODE_ENV: 'production',
  LOG_FORMAT: 'json',
  DATABASE_URL: db.url,
  TEMPORAL_ADDRESS: server.address,
  TEMPORAL_NAMESPACE: 'default',
  TEMPORAL_TASK_QUEUE: taskQueue,
  MAINT_DATA_DIR: '/nonexistent-maint-data',
});

function healthcheck(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/healthcheck.mjs'], { env: imageEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

it("the worker's first start on a fresh server registers the search attributes and creates every schedule", async () => {
  const registered = await client.connection.operatorService.listSearchAttributes({ namespace: 'default' });
  expect(Object.keys(registered.customAttributes ?? {})).not.toContain('MaintJob'); // fresh indeed

  worker = spawn(process.execPath, ['--max-semi-space-size=1', '--optimize-for-size', 'bin/start.mjs', '--external'], { env: imageEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  worker.stdout!.on('data', (d) => (output += d));
  worker.stderr!.on('data', (d) => (output += d));
  const deadline = Date.now() + 120_000;
  while (!output.includes('"msg":"auth-maintenance is running"')) {
    if (worker.exitCode !== null) throw new Error(`the worker exited ${worker.exitCode}:\n${output}`);
    if (Date.now() > deadline) throw new Error(`the worker did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  expect(output).toMatch(/"msg":"search attributes registered"/);
  expect(output).not.toMatch(/schedules not synced/);
  const synced = JSON.parse(output.split('\n').find((l) => l.includes('"msg":"schedules synced"'))!);
  const declared = new Catalogue().schedules().filter((d) => d.enabledByDefault !== false).map((d) => d.id).sort();
  expect(synced.schedules.filter((s: string) => s.startsWith('create')).length).toBe(declared.length);
  // Each exists (describe reads the schedule itself) ...
  for (const id of declared) expect((await client.schedule.getHandle(id).describe()).scheduleId).toBe(id);
  // ... and no other: the list comes from visibility, which catches up within moments.
  const listed = await until(async () => {
    const ids: string[] = [];
    for await (const s of client.schedule.list()) ids.push(s.scheduleId);
    return ids.length >= declared.length && ids;
  }, 'every schedule listed', 30_000);
  expect(listed.sort()).toEqual(declared);
});

it("the image's health check (node bin/healthcheck.mjs, compiled code): exit 0 while the worker polls, non-zero once it stopped", async () => {
  expect(worker, 'the worker of the previous test').toBeDefined();
  let r = await healthcheck();
  const deadline = Date.now() + 30_000;
  while (r.code !== 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    r = await healthcheck();
  }
  expect(r.stderr).toBe('');
  expect(r.code, r.stdout).toBe(0);
  expect(r.stdout).toMatch(new RegExp(`^worker ${worker!.pid}@\\S+ polls ${taskQueue} on ${server.address}\\n$`));

  worker!.kill('SIGINT');
  const [code] = await once(worker!, 'exit');
  expect(code).toBe(0);
  // The server still lists the stopped worker's poller for minutes: the check must not take it for a live one.
  const stopped = await healthcheck();
  expect(stopped.code).toBe(1);
  expect(stopped.stdout).toMatch(new RegExp(`^no worker of \\S+ polls task queue ${taskQueue} on ${server.address} \\(namespace default\\)\\n$`));
});
