import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import type { Client } from '@temporalio/client';
import { controlUpdate, progressQuery } from '../src/temporal/queries.js';
import { connectTestClient, createTestDatabase, scalar, seedBulk, startTestWorker, until, type TestDatabase, type TestWorker } from './support/env.js';
import { maint } from './support/cli.js';
import type { PurgeResult } from '../src/purge/types.js';
import { startHandle } from './support/start.js';
import { backlogByJob } from '../src/db/run-record.js';
import { dbFromPool } from '../src/db/query.js';

/** `maint control`: an operator slows down, pauses and resumes a running purge without cancelling it. */

let client: Client;
let db: TestDatabase;
let worker: TestWorker;
let env: Record<string, string>;

beforeAll(async () => {
  client = await connectTestClient();
  db = await createTestDatabase();
  // Batches that take a while, so there is a running purge to act on.
  worker = await startTestWorker(db, { faults: { afterBatchCommit: () => new Promise((r) => setTimeout(r, 100)) } });
  env = { TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_TASK_QUEUE: worker.taskQueue, DATABASE_URL: db.url };
});
afterAll(async () => {
  await worker.stop();
  await client.connection.close();
  await db.close();
});

const count = () => scalar(db, 'SELECT count(*) FROM outstanding_token');

describe('live control of a running purge', () => {
  it('pauses (no batch starts), takes a fixed batch size, resumes and ends exact; bad requests are refused by name', async () => {
    await seedBulk(db, { expired: 30_000, valid: 200, cutoff: new Date(Date.now() - 60_000) });
    // Statistics as autovacuum keeps them on a live table: the run's estimate of what it matches comes from them.
    await db.pool.query('ANALYZE outstanding_token');
    const started = await maint(['run', 'purge-expired-tokens', '--batch-size', '500', '--workflow-id', 'controlled'], env);
    expect(started.code, started.stderr).toBe(0);
    const handle = client.workflow.getHandle('controlled');
    await until(async () => (await count()) < 30_200 - 2_000, 'a few batches');

    const paused = await maint(['control', 'purge-expired-tokens', '--pause'], env);
    expect(paused.code, paused.stderr).toBe(0);
    expect(paused.stdout).toBe('controlled: paused, batch size as planned\n');
    // The lane runs under way finish (about a second of batches each); then nothing moves.
    await new Promise((r) => setTimeout(r, 2_500));
    const held = await count();
    await new Promise((r) => setTimeout(r, 2_500));
    expect(await count()).toBe(held);
    expect(held).toBeGreaterThan(200);
    expect((await handle.query(progressQuery)).control).toEqual({ paused: true, batchSize: null });
    expect(((await handle.query('__temporal_workflow_metadata')) as { currentDetails?: string }).currentDetails).toContain('**paused by an operator** (`maint control controlled --resume`)');
    // `maint status` says the running purge is held, by whom, and how to let it go on.
    const status = await maint(['status'], env);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/^ {2}controlled \(batchedPurge\) since \S+ · deleting: changed \d+ of ~\d+ rows, paused by an operator \(`maint control controlled --resume`\)$/m);
    // Its job's backlog (maint_backlog_rows) while it runs: the estimate recorded at its start less what it deleted.
    const { rows: [rec] } = await db.pool.query(
      `SELECT estimated_matching::int AS est, (SELECT coalesce(sum(deleted), 0)::int FROM purge_batch b WHERE b.run_id = r.id) AS done FROM maintenance_run r WHERE workflow_id = 'controlled'`,
    );
    expect(rec.est).toBeGreaterThan(20_000);
    const backlog = Number((await backlogByJob(dbFromPool(db.pool))).find((b) => b.job === 'purge-expired-tokens')?.left);
    expect(backlog).toBe(rec.est - rec.done);
    expect(backlog).toBeGreaterThan(0);

    // Refused before it is accepted: nothing asked, a size out of range (from any client).
    const nothing = await maint(['control', 'controlled'], env);
    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toMatch(/control: asks for nothing; give --pause, --resume, --batch-size N, --adaptive, --parallel N, --all-lanes or a budget knob/);
    const refusal = (req: unknown) => handle.executeUpdate(controlUpdate, { args: [req as never] }).then(() => 'accepted', (err: Error & { cause?: Error }) => `${err.message}: ${err.cause?.message}`);
    expect(await refusal({ batchSize: 0 })).toMatch(/^Workflow Update failed: control\.batchSize: number 0 is not allowed; expected an integer from 1 to 100000/);
    expect(await refusal({ speed: 'slow' })).toBe('Workflow Update failed: control.speed: unknown field; allowed: pause, batchSize, parallel, maxReplicaLag, maxReplicaLagBytes, maxActiveSessions, sleepCoef, maxProbeLatency, criticalReplicaLag, criticalActiveSessions, criticalFor');
    expect((await handle.query(progressQuery)).control).toEqual({ paused: true, batchSize: null });

    const resumed = await maint(['control', 'controlled', '--resume', '--batch-size', '2000', '--json'], env);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout)).toEqual([{ workflowId: 'controlled', paused: false, batchSize: 2000 }]);
    const result: PurgeResult = await handle.result();
    expect(result).toMatchObject({ status: 'completed', deleted: 30_000 });
    expect(await count()).toBe(200);
    // The rate leaves the operator's pause out (about 5 s of it): it is the rate of the time the run worked.
    expect(result.pausedMs).toBeGreaterThan(4_500);
    expect(result.pausedMs).toBeLessThan(result.durationMs);
    expect(result.rowsPerSecond).toBeCloseTo(30_000 / ((result.durationMs - result.pausedMs!) / 1000), 0);
    const recorded = (await db.pool.query('SELECT rows_per_second::float8 AS r FROM auth_maintenance.maintenance_run WHERE workflow_id = $1', ['controlled'])).rows[0];
    expect(recorded.r).toBe(result.rowsPerSecond);
    // Batches of 500 before, of 2000 after the operator's change.
    const sizes = (await db.pool.query('SELECT max(deleted)::int AS max, min(deleted)::int AS min FROM auth_maintenance.purge_batch WHERE deleted > 0')).rows[0];
    expect(sizes.max).toBe(2000);
    expect(Number((await db.pool.query('SELECT count(*) AS n FROM auth_maintenance.purge_batch WHERE deleted = 500')).rows[0].n)).toBeGreaterThan(0);
  });

  it('a resume holds across continue-as-new: the next run does not come back paused', async () => {
    await db.pool.query('TRUNCATE outstanding_token, blacklisted_token RESTART IDENTITY');
    await seedBulk(db, { expired: 12_000, valid: 100, cutoff: new Date(Date.now() - 60_000) });
    // A run of 4 batches each, continued as new every 4 batches: a pause and a resume span several runs.
    const handle = await startHandle(client, { job: 'purge-expired-tokens', params: { batchSize: 200, batchesPerRun: 4 }, taskQueue: worker.taskQueue, trigger: 'test' });
    await until(async () => (await count()) < 12_100 - 1_000, 'a few runs of batches');
    await handle.executeUpdate(controlUpdate, { args: [{ pause: true }] });
    // Held over at least one continue-as-new (the lane run under way ends, the workflow turns over).
    await new Promise((r) => setTimeout(r, 2_500));
    const held = await count();
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await count()).toBe(held);
    expect((await handle.query(progressQuery)).control).toMatchObject({ paused: true });
    await handle.executeUpdate(controlUpdate, { args: [{ pause: false }] });
    // It goes on to the end, through many more continue-as-new, never paused again.
    const result = await Promise.race([handle.result(), new Promise((r) => setTimeout(() => r('still running after 60 s'), 60_000))]);
    expect(result).toMatchObject({ status: 'completed', deleted: 12_000 });
    expect(await count()).toBe(100);
    // The pause (4 s between the two Updates, over a continue-as-new) is carried whole into the rate's reckoning.
    expect((result as PurgeResult).pausedMs).toBeGreaterThanOrEqual(3_950);
  });
});
