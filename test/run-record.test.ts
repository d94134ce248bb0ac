import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { type Client } from '@temporalio/client';
import { startHandle } from './support/start.js';
import { replays } from './support/histories.js';
import { failureReason } from '../src/cli/errors.js';
import { maint } from './support/cli.js';
import { testKeys, seedActiveKey } from './support/keys.js';
import { createJobMetrics } from '../src/metrics/metrics.js';
import { InputError } from '../src/kernel/errors.js';
import { connectTestClient, createTestDatabase, deleteSchedule, seedBulk, startTestWorker, testLogger, uniqueName, until, type TestDatabase, type TestWorker } from './support/env.js';

/**
 * Every run on record (a failed start, a reset), the report's exit code for monitoring, the run metrics, and one
 * purge of a job at a time, however it is started.
 */

const run = promisify(execFile);
let client: Client;

beforeAll(async () => {
  client = await connectTestClient();
});
afterAll(async () => {
  await client.connection.close();
});

/** The `temporal` CLI against the test server, as an operator types it. */
function temporal(...args: string[]) {
  return run(inject('temporalCliPath'), [...args, '--address', inject('temporalAddress'), '--namespace', 'default']);
}

async function rowsOf(db: TestDatabase, workflowId: string) {
  const { rows } = await db.pool.query('SELECT id, job, trigger, status, error, replaces, execution_run_id FROM maintenance_run WHERE workflow_id = $1 ORDER BY started_at, finished_at', [workflowId]);
  return rows;
}

async function metricsText(db: TestDatabase): Promise<string> {
  return createJobMetrics({ orm: db.orm, logger: testLogger, rotateAfterSeconds: 30 * 86_400 }).registry.metrics();
}

const failure = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as Error);

describe('every run on record', () => {
  let db: TestDatabase;
  let worker: TestWorker;
  let env: Record<string, string>;
  beforeAll(async () => {
    db = await createTestDatabase();
    worker = await startTestWorker(db);
    env = { TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_TASK_QUEUE: worker.taskQueue, DATABASE_URL: db.url };
  });
  afterAll(async () => {
    await worker.stop();
    await db.close();
  });

  it('a run that fails before or at its start (missing table, bad parameters sent to Temporal, garbage input) has its row, in maint runs, the report and /metrics', async () => {
    await db.pool.query('ALTER TABLE verification_token RENAME TO verification_token_away');
    const missing = await startHandle(client, { job: 'purge-verification-tokens', taskQueue: worker.taskQueue, trigger: 'test' });
    expect(await failure(missing.result())).toBeTruthy();
    const bad = await client.workflow.start('batchedPurge', { taskQueue: worker.taskQueue, workflowId: uniqueName('raw-bad'), args: [{ job: 'purge-expired-tokens', params: { batchSize: 0 }, trigger: 'temporal-cli' }] });
    expect(await failure(bad.result())).toBeTruthy();
    const garbage = await client.workflow.start('batchedPurge', { taskQueue: worker.taskQueue, workflowId: uniqueName('raw-garbage'), args: [{ job: 42 }] });
    expect(await failure(garbage.result())).toBeTruthy();
    const scopes = await client.workflow.start('ensureScopes', { taskQueue: worker.taskQueue, workflowId: uniqueName('raw-scopes'), args: [{ params: { dryRun: 'yes' } }] });
    expect(await failure(scopes.result())).toBeTruthy();

    expect(await rowsOf(db, missing.workflowId)).toMatchObject([{ job: 'purge-verification-tokens', trigger: 'test', status: 'failed', error: expect.stringMatching(/verification_token/) }]);
    expect(await rowsOf(db, bad.workflowId)).toMatchObject([{ job: 'purge-expired-tokens', trigger: 'temporal-cli', status: 'failed', error: expect.stringMatching(/batchSize/) }]);
    expect(await rowsOf(db, garbage.workflowId)).toMatchObject([{ job: 'unknown', trigger: 'manual', status: 'failed', error: expect.stringMatching(/job/) }]);
    expect(await rowsOf(db, scopes.workflowId)).toMatchObject([{ job: 'scopes', status: 'failed', error: expect.stringMatching(/dryRun/) }]);
    for (const [name, h] of [['refused-missing-table', missing], ['refused-params', bad], ['refused-input', garbage], ['refused-scopes-input', scopes]] as const) {
      await replays(client, name, h.workflowId, h.firstExecutionRunId);
    }

    const runs = await maint(['runs'], env);
    expect(runs.stdout.split('\n')[0]).toMatch(/\berror$/);
    expect(runs.stdout).toMatch(new RegExp(`${bad.workflowId}\\s+batchSize: .+`));

    // No signing key: CRITICAL, exit 2; the four failed runs are counted.
    const report = await maint(['report', '--json', '--days', '1'], env);
    expect(report.code).toBe(2);
    const json = JSON.parse(report.stdout);
    expect(json.status).toBe('critical');
    expect(json.stats.last24h.runs.failed).toBe(4);
    expect(json.reasons.join('\n')).toMatch(/4 maintenance runs failed/);
    expect(json.cleanup.jobs.find((j: { job: string }) => j.job === 'purge-expired-tokens')).toMatchObject({ failures: 1 });

    const text = await metricsText(db);
    expect(text).toMatch(/^maint_runs_total\{job="purge-expired-tokens",status="failed"\} 1$/m);
    expect(text).toMatch(/^maint_runs_total\{job="purge-verification-tokens",status="failed"\} 1$/m);
    expect(text).toMatch(/^maint_run_duration_seconds_count\{job="scopes"\} 1$/m);
    // No key: nothing to measure, no sample (not 0).
    expect(text).not.toMatch(/^maint_signing_key_age_seconds/m);
    expect(text).not.toMatch(/^maint_signing_key_rotation_due_in_seconds/m);
    await db.pool.query('ALTER TABLE verification_token_away RENAME TO verification_token');
  }, 120_000);

  it('`temporal workflow reset` of a failed purge leaves the failed row and adds one for the new execution, linked to it', async () => {
    await db.pool.query('ALTER TABLE verification_token RENAME TO verification_token_away');
    const handle = await startHandle(client, { job: 'purge-verification-tokens', taskQueue: worker.taskQueue, trigger: 'test' });
    expect(await failure(handle.result())).toBeTruthy();
    await db.pool.query('ALTER TABLE verification_token_away RENAME TO verification_token');
    await temporal('workflow', 'reset', '--workflow-id', handle.workflowId, '--type', 'FirstWorkflowTask', '--reason', 'table restored');
    await client.workflow.getHandle(handle.workflowId).result();
    const rows = await rowsOf(db, handle.workflowId);
    expect(rows).toHaveLength(2);
    const [old, fresh] = [rows.find((r) => r.status === 'failed')!, rows.find((r) => r.status === 'completed')!];
    expect(old).toMatchObject({ id: handle.firstExecutionRunId, error: expect.stringMatching(/verification_token/) });
    expect(fresh).toMatchObject({ replaces: old.id, error: null });
    expect(fresh.id).not.toBe(old.id);
    await replays(client, 'reset', handle.workflowId, fresh.id);

    const runs = await maint(['runs', '--job', 'purge-verification-tokens'], env);
    expect(runs.stdout).toContain(`(replaces run ${old.id})`);
    const text = await metricsText(db);
    expect(text).toMatch(/^maint_job_last_failure_timestamp_seconds\{job="purge-verification-tokens"\} \d/m);
    expect(text).toMatch(/^maint_runs_total\{job="purge-verification-tokens",status="completed"\} 1$/m);
  }, 120_000);

  it('`maint report` exits 1 on WARNING and 0 on OK, 3 when it cannot tell', async () => {
    const keys = testKeys();
    await seedActiveKey(db, keys.kek);
    // A key, the failed runs of the tests before: WARNING.
    const warning = await maint(['report'], env);
    expect(warning.stdout).toMatch(/^status: WARNING/);
    expect(warning.code).toBe(1);

    const clean = await createTestDatabase();
    const other = await startTestWorker(clean);
    try {
      await seedActiveKey(clean, keys.kek);
      await (await startHandle(client, { job: 'scopes', taskQueue: other.taskQueue, trigger: 'test' })).result();
      const ok = await maint(['report'], { ...env, TEMPORAL_TASK_QUEUE: other.taskQueue, DATABASE_URL: clean.url });
      expect(ok.stdout).toMatch(/^status: OK/);
      expect(ok.code).toBe(0);
    } finally {
      await other.stop();
      await clean.close();
    }
    const unknown = await maint(['report'], { ...env, TEMPORAL_ADDRESS: '127.0.0.1:1' });
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toMatch(/^error: /);
  }, 120_000);
});

describe('a retried execution', () => {
  it('a purge whose run timed out and was retried by its retry policy leaves the first row and adds its own, with its own exact counts', async () => {
    const db = await createTestDatabase();
    // Slow batches until the first execution timed out; then fast.
    let slow = true;
    const worker = await startTestWorker(db, { faults: { afterBatchCommit: () => (slow ? new Promise((r) => setTimeout(r, 500)) : undefined) } });
    try {
      await seedBulk(db, { expired: 300, valid: 10, cutoff: new Date() });
      const workflowId = uniqueName('retried');
      const handle = await client.workflow.start('batchedPurge', {
        taskQueue: worker.taskQueue,
        workflowId,
        args: [{ job: 'purge-expired-tokens', params: { batchSize: 10, parallel: 1 }, trigger: 'test' }],
        workflowRunTimeout: '4 seconds',
        retry: { maximumAttempts: 2, initialInterval: '1 second' },
      });
      await until(async () => (await handle.describe()).runId !== handle.firstExecutionRunId, 'the retried execution', 30_000);
      slow = false;
      await handle.result();
      const rows = await rowsOf(db, workflowId);
      expect(rows).toHaveLength(2);
      const [first, retried] = [rows.find((r) => r.id === handle.firstExecutionRunId)!, rows.find((r) => r.id !== handle.firstExecutionRunId)!];
      // The timed-out execution could not close its row: the retry closes it so, and writes its own.
      expect(first).toMatchObject({ status: 'failed', error: expect.stringMatching(/replaced/) });
      expect(retried).toMatchObject({ status: 'completed', replaces: first.id });
      const deletedBy = async (id: string) => Number((await db.pool.query('SELECT deleted FROM maintenance_run WHERE id = $1', [id])).rows[0].deleted);
      const ledgerOf = async (id: string) => Number((await db.pool.query('SELECT coalesce(sum(deleted), 0) AS n FROM purge_batch WHERE run_id = $1', [id])).rows[0].n);
      expect(await deletedBy(retried.id)).toBe(await ledgerOf(retried.id));
      // Between them, every expired row exactly once.
      expect((await ledgerOf(first.id)) + (await ledgerOf(retried.id))).toBe(300);
      expect(Number((await db.pool.query('SELECT count(*) AS n FROM outstanding_token')).rows[0].n)).toBe(10);
    } finally {
      await worker.stop();
      await db.close();
    }
  }, 120_000);
});

describe('one purge of a job at a time', () => {
  let db: TestDatabase;
  let worker: TestWorker;
  beforeAll(async () => {
    db = await createTestDatabase();
    worker = await startTestWorker(db, { faults: { afterBatchCommit: () => new Promise((r) => setTimeout(r, 200)) } });
    await seedBulk(db, { expired: 2_000, valid: 0, cutoff: new Date() });
  });
  afterAll(async () => {
    await worker.stop();
    await db.close();
  });

  const runningRow = (workflowId: string) => until(async () => (await rowsOf(db, workflowId)).find((r) => r.status === 'running'), `${workflowId} running`);
  const visible = (workflowId: string) =>
    until(async () => {
      for await (const w of client.workflow.list({ query: `WorkflowId = '${workflowId}' AND ExecutionStatus = 'Running'` })) return w;
      return undefined;
    }, `${workflowId} in visibility`);

  it('a second start is refused naming the running workflow, from the client, the CLI and the temporal CLI; dry runs still run', async () => {
    const first = await startHandle(client, { job: 'purge-expired-tokens', params: { batchSize: 10, parallel: 1 }, taskQueue: worker.taskQueue, trigger: 'test' });
    await runningRow(first.workflowId);
    await visible(first.workflowId);

    const fromClient = await failure(startHandle(client, { job: 'purge-expired-tokens', taskQueue: worker.taskQueue, trigger: 'test' }));
    expect(fromClient).toBeInstanceOf(InputError);
    expect(fromClient!.message).toContain(`purge-expired-tokens is already running: workflow ${first.workflowId}`);

    const cli = await maint(['run', 'purge-expired-tokens'], { TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_TASK_QUEUE: worker.taskQueue });
    expect(cli.code).toBe(2);
    expect(cli.stderr).toContain(`purge-expired-tokens is already running: workflow ${first.workflowId}`);

    // The temporal CLI bypasses our client: the workflow itself refuses, and the refusal is on record.
    const bypass = uniqueName('temporal-cli');
    await temporal('workflow', 'start', '--type', 'batchedPurge', '--task-queue', worker.taskQueue, '--workflow-id', bypass, '--input', JSON.stringify({ job: 'purge-expired-tokens', trigger: 'temporal-cli' }));
    const refused = await failure(client.workflow.getHandle(bypass).result());
    expect(failureReason((refused as { cause?: unknown }).cause)).toContain(`already running: workflow ${first.workflowId}`);
    expect(await rowsOf(db, bypass)).toMatchObject([{ status: 'failed', trigger: 'temporal-cli', error: expect.stringContaining(`already running: workflow ${first.workflowId}`) }]);

    // A dry run changes nothing: it runs alongside.
    const dry = await startHandle(client, { job: 'purge-expired-tokens', params: { dryRun: true }, taskQueue: worker.taskQueue, trigger: 'test' });
    await expect(dry.result()).resolves.toMatchObject({ status: 'completed', dryRun: true });
    expect((await rowsOf(db, first.workflowId))[0].status).toBe('running');

    await first.cancel();
    await failure(first.result());
    // Once it ended, the job is free again.
    const next = await startHandle(client, { job: 'purge-expired-tokens', params: { batchSize: 10, parallel: 1 }, taskQueue: worker.taskQueue, trigger: 'test' });
    await runningRow(next.workflowId);
    await next.cancel();
    await failure(next.result());
  }, 120_000);

  it("a schedule's tick that finds its job running is skipped, not failed (which would pause the schedule)", async () => {
    const manual = await startHandle(client, { job: 'purge-expired-tokens', params: { batchSize: 10, parallel: 1 }, taskQueue: worker.taskQueue, trigger: 'test' });
    await runningRow(manual.workflowId);
    const scheduleId = uniqueName('maint-test-overlap');
    const schedule = await client.schedule.create({
      scheduleId,
      spec: { intervals: [{ every: '1 day' }] },
      action: { type: 'startWorkflow', workflowType: 'batchedPurge', taskQueue: worker.taskQueue, workflowId: `${scheduleId}-run`, args: [{ job: 'purge-expired-tokens' }] },
      policies: { pauseOnFailure: true },
    });
    try {
      await schedule.trigger();
      const ticked = await until(async () => (await schedule.describe()).info.recentActions[0]?.action.workflow.workflowId, 'the triggered run');
      const result = await client.workflow.getHandle(ticked).result();
      expect(result).toMatchObject({ status: 'skipped' });
      const [row] = await rowsOf(db, ticked);
      expect(row).toMatchObject({ status: 'skipped', trigger: `schedule:${scheduleId}`, error: expect.stringContaining(`already running: workflow ${manual.workflowId}`) });
      expect((await schedule.describe()).state.paused).toBe(false);
      await replays(client, 'skipped-while-running', ticked, (await client.workflow.getHandle(ticked).describe()).runId);
    } finally {
      await deleteSchedule(client, scheduleId);
      await manual.cancel();
      await failure(manual.result());
    }
  }, 120_000);

  it('a purge whose workflow was terminated does not hold its job', async () => {
    const gone = await startHandle(client, { job: 'purge-expired-tokens', params: { batchSize: 10, parallel: 1 }, taskQueue: worker.taskQueue, trigger: 'test' });
    await runningRow(gone.workflowId);
    await gone.terminate('test');
    // Its row stays running (nothing closed it); a new start finds its workflow over and goes.
    const bypass = uniqueName('after-terminate');
    await client.workflow.start('batchedPurge', { taskQueue: worker.taskQueue, workflowId: bypass, args: [{ job: 'purge-expired-tokens', params: { batchSize: 10, parallel: 1 }, trigger: 'test' }] });
    await runningRow(bypass);
    expect(await rowsOf(db, gone.workflowId)).toMatchObject([{ status: 'failed', error: expect.stringMatching(/terminated/) }]);
    await client.workflow.getHandle(bypass).cancel();
    await failure(client.workflow.getHandle(bypass).result());
  }, 120_000);
});
