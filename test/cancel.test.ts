import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { WorkflowFailedError, CancelledFailure, type Client } from '@temporalio/client';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startHandle } from './support/start.js';
import { replays } from './support/histories.js';
import { maint } from './support/cli.js';
import { connectTestClient, createTestDatabase, scalar, seedBulk, startTestWorker, until, type TestDatabase, type TestWorker } from './support/env.js';

/**
 * A cancel stops a purge within seconds, also while its batches fail and retry: no batch runs after the request,
 * a lane run stops between two batches, and the run is recorded cancelled with the ledger's exact counts.
 */

const JOB = 'purge-expired-tokens';
const run = promisify(execFile);
let client: Client;

beforeAll(async () => {
  client = await connectTestClient();
});
afterAll(async () => {
  await client.connection.close();
});

/** The database refuses every delete of tokens (as a trigger or a policy of the DBA's would): each batch fails. */
async function failDeletes(db: TestDatabase): Promise<void> {
  await db.pool.query(`CREATE FUNCTION refuse_delete() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'deletes refused during the maintenance window'; END $$`);
  await db.pool.query('CREATE TRIGGER refuse_delete BEFORE DELETE ON outstanding_token FOR EACH STATEMENT EXECUTE FUNCTION refuse_delete()');
}

async function recover(db: TestDatabase): Promise<void> {
  await db.pool.query('DROP TRIGGER refuse_delete ON outstanding_token');
}

const tokens = (db: TestDatabase) => scalar(db, 'SELECT count(*) FROM outstanding_token');
const ledger = (db: TestDatabase, runId: string) => scalar(db, 'SELECT coalesce(sum(deleted), 0) FROM purge_batch WHERE run_id = $1', [runId]);

/** The attempt of the purge's pending lane run, once it has failed at least `n` times. */
async function failingAttempt(handle: { describe(): Promise<{ raw: { pendingActivities?: Array<{ attempt?: number | null }> | null } }> }, n: number) {
  const d = await handle.describe();
  const attempt = d.raw.pendingActivities?.[0]?.attempt ?? 0;
  return attempt > n ? attempt : undefined;
}

async function endsCancelled(result: Promise<unknown>): Promise<void> {
  const err = await result.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(WorkflowFailedError);
  expect((err as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
}

describe('cancel', () => {
  let db: TestDatabase;
  let worker: TestWorker;
  beforeAll(async () => {
    db = await createTestDatabase();
    worker = await startTestWorker(db);
  });
  afterAll(async () => {
    await worker.stop();
    await db.close();
  });

  it('`temporal workflow cancel` stops a purge whose batches fail and retry within seconds; once the database recovers, not one row more is deleted', async () => {
    await seedBulk(db, { expired: 3_000, valid: 100, cutoff: new Date() });
    const handle = await startHandle(client, { job: JOB, params: { batchSize: 50 }, taskQueue: worker.taskQueue, trigger: 'test' });
    const runId = handle.firstExecutionRunId;
    await until(async () => (await ledger(db, runId)) > 0, 'a first batch committed');
    await failDeletes(db);
    // The lane run fails and is being retried (attempt 3 or more) when the cancel comes.
    await until(() => failingAttempt(handle, 2), 'the lane run failing and retried', 30_000);

    // While it retries, its record says why (maint runs shows it).
    const { rows: failing } = await db.pool.query('SELECT status, error FROM maintenance_run WHERE id = $1', [runId]);
    expect(failing[0].status).toBe('running');
    expect(failing[0].error).toMatch(/^batch failing: attempt \d+: database error P0001: deletes refused during the maintenance window$/);

    const atRequest = { tokens: await tokens(db), ledger: await ledger(db, runId) };
    const requested = Date.now();
    await run(inject('temporalCliPath'), ['workflow', 'cancel', '--workflow-id', handle.workflowId, '--address', inject('temporalAddress'), '--namespace', 'default']);
    await endsCancelled(handle.result());
    const took = Date.now() - requested;
    expect(took).toBeLessThan(5_000);

    // The database recovers: a retry still pending, or a lane run still going, would delete now.
    await recover(db);
    await new Promise((r) => setTimeout(r, 4_000));
    expect(await tokens(db)).toBe(atRequest.tokens);
    expect(await ledger(db, runId)).toBe(atRequest.ledger);

    const { rows } = await db.pool.query('SELECT status, deleted, batches, error FROM maintenance_run WHERE id = $1', [runId]);
    expect(rows[0]).toMatchObject({ status: 'cancelled', deleted: String(atRequest.ledger) });
    // The cancel and the failure it interrupted, both on record.
    expect(rows[0].error).toMatch(/^cancel(led| requested) while a batch was failing \(attempt \d+: database error P0001: deletes refused during the maintenance window\)$/);
    expect(Number(rows[0].batches)).toBeGreaterThan(0);
    // Every deleted row is in the ledger: the seeded 3,100 less what is left.
    expect(3_100 - atRequest.tokens).toBe(atRequest.ledger);
    await replays(client, 'cancelled-failing', handle.workflowId, runId);
  }, 90_000);

  it('`maint cancel <job>` stops a running lane run between two of its batches: none starts after the request', async () => {
    // The 30th batch (inside a lane run, whichever) holds after its commit until the cancel request is on record
    // and 3 s more (at most 20 s in all): however slowly the CLI starts, the request comes between two batches, and
    // the lane run's heartbeat (every second) has time to bring it.
    let committed = 0;
    let held: () => void = () => undefined;
    const holding = new Promise<void>((r) => (held = r));
    let release: () => void = () => undefined;
    const released = new Promise<void>((r) => (release = r));
    const slow = await startTestWorker(db, {
      faults: {
        afterBatchCommit: async () => {
          committed += 1;
          if (committed !== 30) return;
          held();
          await Promise.race([released, new Promise((r) => setTimeout(r, 20_000))]);
        },
      },
    });
    try {
      await db.pool.query('TRUNCATE outstanding_token CASCADE');
      await seedBulk(db, { expired: 5_000, valid: 0, cutoff: new Date() });
      const handle = await startHandle(client, { job: JOB, params: { batchSize: 10, parallel: 1 }, taskQueue: slow.taskQueue, trigger: 'test' });
      const runId = handle.firstExecutionRunId;
      // Visibility lists the run a moment after it started.
      await until(async () => {
        for await (const w of client.workflow.list({ query: `MaintJob = '${JOB}' AND ExecutionStatus = 'Running' AND TaskQueue = '${slow.taskQueue}'` })) return w;
        return undefined;
      }, 'the run in visibility');
      await holding;
      const cancelling = maint(['cancel', JOB], { TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_TASK_QUEUE: slow.taskQueue, DATABASE_URL: db.url });
      await until(async () => ((await handle.fetchHistory()).events ?? []).some((e) => e.workflowExecutionCancelRequestedEventAttributes) || undefined, 'the cancel request on record', 30_000);
      const atRequest = { tokens: await tokens(db), ledger: await ledger(db, runId) };
      const requested = Date.now();
      setTimeout(release, 3_000);
      const r = await cancelling;
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe(`${handle.workflowId}: cancelled\n`);
      expect(r.code).toBe(0);
      await endsCancelled(handle.result());
      expect(Date.now() - requested).toBeLessThan(8_000);

      // The lane run learnt of the cancel through its heartbeat and stopped before its next batch: it ended
      // cancelled (not completed after its budget), and nothing was deleted after the request.
      expect(await ledger(db, runId)).toBe(atRequest.ledger);
      expect(await tokens(db)).toBe(atRequest.tokens);
      const events = (await handle.fetchHistory()).events ?? [];
      expect(events.some((e) => e.activityTaskCancelRequestedEventAttributes)).toBe(true);
      expect(events.some((e) => e.activityTaskCanceledEventAttributes)).toBe(true);
      const { rows } = await db.pool.query('SELECT status, deleted, batches FROM maintenance_run WHERE id = $1', [runId]);
      expect(rows[0]).toMatchObject({ status: 'cancelled', deleted: String(atRequest.ledger), batches: 30 });
      expect(5_000 - atRequest.tokens).toBe(atRequest.ledger);
      await replays(client, 'cancelled-lane-run', handle.workflowId, runId);
    } finally {
      await slow.stop();
    }
  }, 90_000);

  it('`maint cancel <job>` finds a purge started without search attributes through the audit table', async () => {
    const slow = await startTestWorker(db, { faults: { afterBatchCommit: () => new Promise((r) => setTimeout(r, 150)) } });
    try {
      await db.pool.query('TRUNCATE outstanding_token CASCADE');
      await seedBulk(db, { expired: 2_000, valid: 0, cutoff: new Date() });
      // As a bare `temporal workflow start` sends it: no MaintJob for visibility to find.
      const handle = await client.workflow.start('batchedPurge', { taskQueue: slow.taskQueue, workflowId: `bare-${Date.now()}`, args: [{ job: JOB, params: { batchSize: 10, parallel: 1 } }] });
      await until(async () => (await ledger(db, handle.firstExecutionRunId)) > 0, 'batches committed');
      const r = await maint(['cancel', JOB], { TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_TASK_QUEUE: slow.taskQueue, DATABASE_URL: db.url });
      expect(r.stdout).toBe(`${handle.workflowId}: cancelled\n`);
      expect(r.code).toBe(0);
      await endsCancelled(handle.result());
    } finally {
      await slow.stop();
    }
  }, 90_000);

  it('`maint cancel` of a job with nothing running says so and exits 2', async () => {
    const r = await maint(['cancel', 'purge-verification-tokens'], { TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_TASK_QUEUE: worker.taskQueue });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/purge-verification-tokens has no running workflow/);
  });
});
