import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import type { Client } from '@temporalio/client';
import { connectTestClient, createTestDatabase, seedBulk, startTestWorker, until, type TestDatabase, type TestWorker } from './support/env.js';
import { maint } from './support/cli.js';

/** `maint run --wait --json` off a terminal: the progress lines an operator's script or CI log reads. */

let client: Client;
let db: TestDatabase;
let worker: TestWorker;
let env: Record<string, string>;

beforeAll(async () => {
  client = await connectTestClient();
  db = await createTestDatabase();
  worker = await startTestWorker(db);
  env = { TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_TASK_QUEUE: worker.taskQueue, DATABASE_URL: db.url };
});
afterAll(async () => {
  await worker.stop();
  await client.connection.close();
  await db.close();
});

interface Line {
  progress: { phase: string; done: number; total: number | null; batches: number; eta: string; failing: { attempt: number; reason: string } | null };
}
const progressLines = (stderr: string): Line[] => stderr.split('\n').filter((l) => l.startsWith('{"progress"')).map((l) => JSON.parse(l) as Line);

describe('progress of a purge, told as it is', () => {
  it('shows a failing batch with its reason and attempt while it retries, and a total never below what is done', async () => {
    await seedBulk(db, { expired: 30_000, valid: 1_000, cutoff: new Date(Date.now() - 60_000) });
    // The database refuses deletes for a while, as a trigger (or a lock timeout) would.
    await db.pool.query(`CREATE FUNCTION refuse_delete() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'deletes are refused during the test'; END $$`);
    await db.pool.query('CREATE TRIGGER refuse BEFORE DELETE ON outstanding_token FOR EACH STATEMENT EXECUTE FUNCTION refuse_delete()');

    const running = maint(['run', 'purge-expired-tokens', '--batch-size', '1000', '--wait', '--json', '--workflow-id', 'progress-failing-batch'], env);
    const handle = client.workflow.getHandle('progress-failing-batch');
    await until(async () => ((await handle.describe()).raw.pendingActivities ?? []).some((a) => (a.attempt ?? 1) >= 3), 'the batch on its third attempt', 60_000);
    await new Promise((r) => setTimeout(r, 3_000)); // the CLI checks the pending activities every 2 s
    const runs = JSON.parse((await maint(['runs', '--json', '--job', 'purge-expired-tokens'], env)).stdout) as Array<{ workflow_id: string; status: string; error: string | null }>;
    expect(runs.find((x) => x.workflow_id === 'progress-failing-batch')).toMatchObject({ status: 'running', error: expect.stringMatching(/^batch failing: attempt \d+: database error P0001: deletes are refused during the test$/) });
    // `maint status`'s running line says so too, not only the job's row above it.
    const status = await maint(['status'], env);
    expect(status.stdout).toMatch(/^ {2}progress-failing-batch \(batchedPurge\) since \S+ · deleting: changed 0 of ~\d+ rows, batch failing: attempt \d+: database error P0001: deletes are refused during the test$/m);
    await db.pool.query('DROP TRIGGER refuse ON outstanding_token');

    const r = await running;
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'completed', deleted: 30_000 });
    // Recovered and completed: the failure it retried through is not the run's error.
    const { rows } = await db.pool.query(`SELECT error FROM maintenance_run WHERE workflow_id = 'progress-failing-batch'`);
    expect(rows).toEqual([{ error: null }]);
    const lines = progressLines(r.stderr);
    const failing = lines.find((l) => l.progress.failing);
    expect(failing?.progress.failing).toMatchObject({ reason: expect.stringContaining('deletes are refused during the test') });
    expect(failing!.progress.failing!.attempt).toBeGreaterThanOrEqual(2);
    const counted = lines.filter((l) => l.progress.total !== null);
    expect(counted.length).toBeGreaterThan(0);
    for (const l of counted) expect(l.progress.total!).toBeGreaterThanOrEqual(l.progress.done);
    expect(lines.some((l) => l.progress.eta === 'NFs' || l.progress.eta.includes('NaN'))).toBe(false);
    // Each lane run is named in the Web UI by its step, lane and batches (its scheduled event's user metadata).
    const history = await handle.fetchHistory();
    const summaries = (history.events ?? [])
      .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'purgeLaneRun')
      .map((e) => Buffer.from(e.userMetadata?.summary?.data ?? new Uint8Array()).toString('utf8'));
    expect(summaries.length).toBeGreaterThan(0);
    for (const summary of summaries) expect(summary).toMatch(/^"outstanding_token · lane \d of \d · batches \d+ to \d+"$/);
    // The Web UI's current details tell the same.
    const meta = (await handle.query('__temporal_workflow_metadata')) as { currentDetails?: string };
    expect(meta.currentDetails).toMatch(/changed \*\*30000\*\* rows of about \d+ · \d+ batches/);
  });

  it('a dry run of a multi-step job tells each step apart: would update, would delete, each cutoff; EXPLAIN only with --explain', async () => {
    const day = 86_400_000;
    const at = (ms: number) => new Date(Date.now() + ms).toISOString();
    await db.pool.query(
      `INSERT INTO access_token (id, token, expires_at, revoked, revoked_at) VALUES
         (1, 'a', $1, false, NULL), (2, 'b', $1, false, NULL), (3, 'c', $2, false, NULL), (4, 'd', $1, true, $3)`,
      [at(-day), at(day), at(-200 * day)],
    );
    const dry = await maint(['run', 'revoke-then-delete-access-tokens', '--dry-run', '--wait'], env);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/would delete\s+1\b/);
    expect(dry.stdout).toMatch(/would update\s+2\b/);
    expect(dry.stdout).toMatch(/cutoff of \S+.*\n.*cutoff of /);
    expect(dry.stdout).not.toMatch(/EXPLAIN of one batch of .*:\n/);
    expect(dry.stdout).toContain('--explain prints the EXPLAIN');
    const explained = await maint(['run', 'revoke-then-delete-access-tokens', '--dry-run', '--wait', '--explain'], env);
    expect(explained.stdout).toMatch(/EXPLAIN of one batch of .*:\n/);
    expect(await db.pool.query('SELECT count(*)::int AS n FROM access_token WHERE revoked').then((r) => r.rows[0].n)).toBe(1);
  });

  it('maint rerun starts a finished run again with its job and parameters, linked by its trigger; a running or unknown one is refused', async () => {
    const first = await maint(['run', 'purge-expired-tokens', '--batch-size', '700', '--dry-run', '--wait', '--json', '--workflow-id', 'rerun-source'], env);
    expect(first.code, first.stderr).toBe(0);
    const again = await maint(['rerun', 'rerun-source', '--wait', '--json'], env);
    expect(again.code, again.stderr).toBe(0);
    const out = JSON.parse(again.stdout);
    expect(out).toMatchObject({ job: 'purge-expired-tokens', params: { batchSize: 700, dryRun: true }, reruns: 'rerun-source', result: { job: 'purge-expired-tokens', dryRun: true, status: 'completed' } });
    const d = await client.workflow.getHandle(out.workflowId).describe();
    expect(d.memo?.parameters).toEqual({ batchSize: 700, dryRun: true });
    expect(await d.staticSummary()).toBe('purge-expired-tokens (dry run) · rerun:rerun-source');
    const { rows } = await db.pool.query('SELECT trigger FROM auth_maintenance.maintenance_run WHERE workflow_id = $1', [out.workflowId]);
    expect(rows).toEqual([{ trigger: 'rerun:rerun-source' }]);

    const unknown = await maint(['rerun', 'no-such-run'], env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/workflow-id: "no-such-run" is not a workflow of namespace default/);
  });
});
