import { spawn } from 'node:child_process';
import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import type { Client } from '@temporalio/client';
import type { PurgeResult } from '../src/purge/types.js';
import { connectTestClient, createTestDatabase, scalar, seedTokens, startTestWorker, workflowsOnQueue, type TestDatabase, type TestWorker } from './support/env.js';
import type { CliResult } from './support/cli.js';

/** The trigger scripts of examples/, run as a user would run them, against a worker on its own queue. */

let client: Client;
let db: TestDatabase;
let worker: TestWorker;
let env: Record<string, string | undefined>;

const DAY = 86_400_000;

beforeAll(async () => {
  client = await connectTestClient();
  db = await createTestDatabase();
  worker = await startTestWorker(db);
  env = {
    // The `temporal` CLI the tests run the dev server with, as a user's PATH would have it.
    PATH: `${dirname(inject('temporalCliPath'))}:${process.env.PATH}`,
    HOME: process.env.HOME,
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    TEMPORAL_NAMESPACE: 'default',
    TEMPORAL_TASK_QUEUE: worker.taskQueue,
  };
});
afterAll(async () => {
  await worker.stop();
  await client.connection.close();
  await db.close();
});

function run(command: string, args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

const typescriptExample = (...args: string[]) => run(process.execPath, ['--import', 'tsx', 'examples/trigger-job.ts', ...args]);
const cliExample = (...args: string[]) => run('bash', ['examples/trigger-with-temporal-cli.sh', ...args]);

async function searchAttributesOf(workflowId: string): Promise<Record<string, unknown>> {
  const d = await client.workflow.getHandle(workflowId).describe();
  return Object.fromEntries(d.typedSearchAttributes.getAll().map((p) => [p.key.name, p.value]));
}

describe('example trigger scripts', () => {
  it('examples/trigger-job.ts: a dry run through the package client, labelled like every run', async () => {
    const now = Date.now();
    await seedTokens(db, [...Array(7)].map((_, i) => ({ expiresAt: new Date(now - (i + 1) * DAY) })));
    await seedTokens(db, [{ expiresAt: new Date(now + DAY) }]);
    const r = await typescriptExample('purge-expired-tokens', '{"dryRun": true}');
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as PurgeResult;
    expect(result).toMatchObject({ job: 'purge-expired-tokens', dryRun: true, status: 'completed', matched: 7, deleted: 0 });
    const workflowId = /started (maint-purge-expired-tokens-\S+) \(run /.exec(r.stderr)![1]!;
    expect(await searchAttributesOf(workflowId)).toMatchObject({ MaintJob: 'purge-expired-tokens', MaintDryRun: true, MaintTrigger: 'script:trigger-job' });
    expect(await scalar(db, 'SELECT count(*) FROM outstanding_token')).toBe(8);
  });

  it('examples/trigger-job.ts: a bad parameter is refused before anything starts', async () => {
    const before = await workflowsOnQueue(client, worker.taskQueue);
    const r = await typescriptExample('purge-expired-tokens', '{"batchSize": 0}');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^batchSize: 0 is not allowed; expected an integer from 1 to 100000$/m);
    expect(await workflowsOnQueue(client, worker.taskQueue)).toBe(before);
  });

  it('examples/trigger-with-temporal-cli.sh: a real purge with the temporal CLI alone', async () => {
    const expired = await scalar(db, 'SELECT count(*) FROM outstanding_token WHERE expires_at < now()');
    expect(expired).toBeGreaterThan(0);
    const r = await cliExample('purge-expired-tokens', '{"batchSize": 2}');
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout);
    // `temporal workflow result --output json` wraps the workflow's result.
    const purge = (result.result ?? result) as PurgeResult;
    expect(purge).toMatchObject({ job: 'purge-expired-tokens', dryRun: false, status: 'completed', deleted: expired });
    expect(await scalar(db, 'SELECT count(*) FROM outstanding_token WHERE expires_at < now()')).toBe(0);
    expect(await scalar(db, 'SELECT count(*) FROM outstanding_token')).toBe(1);
    const workflowId = /WorkflowId\s+(maint-purge-expired-tokens-\S+)/.exec(r.stderr)![1]!;
    expect(await searchAttributesOf(workflowId)).toMatchObject({ MaintJob: 'purge-expired-tokens', MaintDryRun: false, MaintTrigger: 'script:temporal-cli' });
  });

  it('examples/trigger-with-temporal-cli.sh: the workflow refuses a bad parameter at its first step', async () => {
    const r = await cliExample('purge-expired-tokens', '{"batchSize": 0}');
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/batchSize: 0 is not allowed; expected an integer from 1 to 100000/);
  });
});
