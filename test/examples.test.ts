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
    expect(await (await client.workflow.getHandle(workflowId).describe()).staticSummary()).toBe('purge-expired-tokens (dry run) · script:trigger-job');
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

  it('examples/trigger-with-temporal-cli.sh finds the CLI where `npm start` built it, and says how to get one when there is none', async () => {
    const { mkdtemp, mkdir, symlink, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { TEMPORAL_CLI_VERSION } = await import('../src/local/temporal-cli.js');
    const home = await mkdtemp(join(tmpdir(), 'maint-example-home-'));
    const saved = env;
    try {
      // A PATH without `temporal` (bash, date and coreutils only), as on a machine where only `npm start` built it.
      env = { ...saved, PATH: '/usr/bin:/bin', HOME: home, XDG_CACHE_HOME: undefined };
      const none = await cliExample('purge-expired-tokens', '{"dryRun": true}');
      expect(none.code).toBe(127);
      expect(none.stderr).toMatch(/the Temporal CLI is not on PATH, in TEMPORAL_CLI_PATH, or in .*auth-maintenance\/ \(where `npm start` builds it\)/);
      expect(none.stderr).toContain('run `npm start` once');

      const cache = join(home, '.cache', 'auth-maintenance', `temporal-cli-v${TEMPORAL_CLI_VERSION}`);
      await mkdir(cache, { recursive: true });
      await symlink(inject('temporalCliPath'), join(cache, 'temporal'));
      const found = await cliExample('purge-expired-tokens', '{"dryRun": true}');
      expect(found.code, found.stderr).toBe(0);
      expect(JSON.parse(found.stdout).result ?? JSON.parse(found.stdout)).toMatchObject({ job: 'purge-expired-tokens', dryRun: true, status: 'completed' });
    } finally {
      env = saved;
      await rm(home, { recursive: true, force: true });
    }
  });

  it('examples/trigger-with-temporal-cli.sh looks in the cache of the CLI version the tool pins', async () => {
    const { readFile } = await import('node:fs/promises');
    const { TEMPORAL_CLI_VERSION } = await import('../src/local/temporal-cli.js');
    expect(await readFile('examples/trigger-with-temporal-cli.sh', 'utf8')).toContain(`/auth-maintenance/temporal-cli-v${TEMPORAL_CLI_VERSION}/temporal`);
  });

  it('examples/github-actions-trigger-schedule.yml: its trigger step, run as the runner would, starts one scheduled run', async () => {
    const { readFile } = await import('node:fs/promises');
    const { parse } = await import('yaml');
    const { syncSchedules } = await import('../temporal-schedules/sync.js');
    const { Catalogue } = await import('../src/catalogue/index.js');
    const { uniqueName, until } = await import('./support/env.js');
    const flow = parse(await readFile('examples/github-actions-trigger-schedule.yml', 'utf8')) as { jobs: { trigger: { env: Record<string, string>; steps: Array<{ name: string; run: string }> } } };
    const step = flow.jobs.trigger.steps.find((s) => s.name === 'Trigger the schedule')!;
    expect(Object.keys(flow.jobs.trigger.env)).toEqual(expect.arrayContaining(['TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', 'TEMPORAL_API_KEY', 'TEMPORAL_TLS_CLIENT_CERT_DATA', 'TEMPORAL_TLS_CLIENT_KEY_DATA']));
    const id = uniqueName('gha');
    const catalogue = new Catalogue();
    await syncSchedules(client, [{ id, job: 'purge-expired-tokens', cron: ['0 0 1 1 *'], timezone: 'UTC', overlap: 'SKIP', catchupWindow: '1h', pauseOnFailure: false, note: 'example', params: { dryRun: true } }], { taskQueue: worker.taskQueue, catalogue });
    try {
      const saved = env;
      // Secrets a repository has not set arrive as empty strings.
      env = { ...saved, SCHEDULE_ID: id, TEMPORAL_API_KEY: '', TEMPORAL_TLS_CLIENT_CERT_DATA: '', TEMPORAL_TLS_CLIENT_KEY_DATA: '', TEMPORAL_TLS_SERVER_CA_CERT_DATA: '' };
      const r = await run('bash', ['-c', step.run]).finally(() => (env = saved));
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`triggered ${id}`);
      const d = await until(async () => {
        const described = await client.schedule.getHandle(id).describe();
        return described.info.recentActions.length ? described : undefined;
      }, 'the triggered run');
      const started = d.info.recentActions[0]!.action;
      const result = await client.workflow.getHandle(started.type === 'startWorkflow' ? started.workflow.workflowId : '').result();
      expect(result).toMatchObject({ job: 'purge-expired-tokens', dryRun: true, status: 'completed' });
    } finally {
      const { deleteSchedule } = await import('./support/env.js');
      await deleteSchedule(client, id);
    }
  });

  it("docs/running-jobs.md: the `temporal` recipe, run as written, labels its run like every other", async () => {
    const { readFile } = await import('node:fs/promises');
    const { uniqueName } = await import('./support/env.js');
    const doc = await readFile('docs/running-jobs.md', 'utf8');
    const block = /## From the `temporal` CLI[\s\S]*?```sh\n([\s\S]*?)```/.exec(doc)![1]!;
    const id = uniqueName('maint-purge-expired-tokens-recipe');
    // Only the queue and the id are this test's own; the cancel line would end the run it checks.
    const script = block
      .split('\n')
      .filter((l) => !l.startsWith('temporal workflow cancel'))
      .join('\n')
      .replaceAll('--task-queue auth-maintenance', `--task-queue ${worker.taskQueue}`)
      .replaceAll('maint-purge-expired-tokens-manual-1', id);
    expect(script).toContain('temporal workflow start');
    const r = await run('bash', ['-euo', 'pipefail', '-c', script]);
    expect(r.code, r.stderr).toBe(0);
    expect(await searchAttributesOf(id)).toMatchObject({ MaintJob: 'purge-expired-tokens', MaintDryRun: false, MaintTrigger: 'temporal-cli' });
    expect(await client.workflow.getHandle(id).result()).toMatchObject({ job: 'purge-expired-tokens', status: 'completed' });
  });
});
