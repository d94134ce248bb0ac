import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import pg from 'pg';
import type { Client } from '@temporalio/client';
import { createLogger } from '../src/logger.js';
import { createJobMetrics, type JobMetrics } from '../src/metrics/metrics.js';
import { loadNotifications } from '../src/settings/notifications.js';
import { Catalogue } from '../src/catalogue/index.js';
import { createNotifier } from '../src/notify/outbox.js';
import { controlUpdate, progressQuery } from '../src/temporal/queries.js';
import { throttleOf } from '../src/cli/progress.js';
import { connectTestClient, createTestDatabase, scalar, seedBulk, startTestWorker, until, type TestDatabase, type TestWorker } from './support/env.js';
import { parsePrometheus, startHttpReceiver } from './support/receivers.js';
import { startHandle } from './support/start.js';
import { maint } from './support/cli.js';

/**
 * The impact budget against a real PostgreSQL and Temporal: a batch that blocks the application shrinks, the
 * deployment's throttle query holds a purge and lets it go, an operator's bad change is refused and changes nothing, a
 * critical value that lasts ends the run as partial (recorded, notified, resumed by the next run), and every wait
 * counts in maint_purge_throttled_seconds_total.
 */

let client: Client;
let db: TestDatabase;
let worker: TestWorker;
let metrics: JobMetrics;
let http: Awaited<ReturnType<typeof startHttpReceiver>>;
let env: Record<string, string>;

beforeAll(async () => {
  client = await connectTestClient();
  db = await createTestDatabase();
  // The application's flag the deployment's throttle query reads (false: go on).
  await db.pool.query('CREATE TABLE public.purge_hold (hold boolean NOT NULL)');
  await db.pool.query('INSERT INTO public.purge_hold VALUES (false)');
  http = await startHttpReceiver();
  const logger = createLogger({ level: 'silent' });
  metrics = createJobMetrics({ orm: db.orm, logger, rotateAfterSeconds: 30 * 86_400 });
  const config = loadNotifications({ notifications: { webhooks: [{ name: 'ops', url: `${http.url}/ops`, events: ['run-partial'] }] } }, {}, new Catalogue().names());
  worker = await startTestWorker(db, {
    metrics,
    notifier: createNotifier({ orm: db.orm, logger, config }),
    env: { MAINT_BRAKE_THROTTLE_QUERY: 'SELECT hold FROM public.purge_hold', MAINT_MAX_PARALLEL: '4' },
  });
  env = { TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_TASK_QUEUE: worker.taskQueue, DATABASE_URL: db.url };
});
afterAll(async () => {
  await worker?.stop();
  await client?.connection.close();
  await db?.close();
  await http?.close();
});

const count = () => scalar(db, 'SELECT count(*) FROM outstanding_token');
const hold = (on: boolean) => db.pool.query('UPDATE public.purge_hold SET hold = $1', [on]);
async function throttledSeconds(reason: string): Promise<number> {
  const samples = parsePrometheus(await metrics.registry.metrics()).filter((s) => s.name === 'maint_purge_throttled_seconds_total' && s.labels.reason === reason);
  return samples.reduce((sum, s) => sum + s.value, 0);
}
async function appSession(): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: db.url, application_name: 'the-application' });
  await c.connect();
  return c;
}
const reset = async () => {
  await db.pool.query('TRUNCATE outstanding_token, blacklisted_token CASCADE');
};

describe('the impact budget', () => {
  it('shrinks the batches that make an application transaction wait on their locks, backs off, and grows back after', async () => {
    await reset();
    await seedBulk(db, { expired: 12_000, valid: 100, cutoff: new Date(Date.now() - 60_000) });
    // The application's audit trigger: each batch's delete updates a row of its stats table and holds it 0.3 s more,
    // so an application transaction that updates that row meanwhile waits on the batch.
    await db.pool.query('CREATE TABLE public.token_stats (id int PRIMARY KEY, deleted bigint NOT NULL, touched timestamptz)');
    await db.pool.query('INSERT INTO public.token_stats VALUES (1, 0, null)');
    await db.pool.query(`CREATE FUNCTION public.count_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN UPDATE public.token_stats SET deleted = deleted + 1 WHERE id = 1; PERFORM pg_sleep(0.3); RETURN NULL; END $$`);
    await db.pool.query('CREATE TRIGGER count_deleted AFTER DELETE ON outstanding_token FOR EACH STATEMENT EXECUTE FUNCTION public.count_deleted()');
    const app = await appSession();
    try {
      const blockingBefore = await throttledSeconds('blocking');
      const handle = await startHandle(client, { job: 'purge-expired-tokens', params: { batchSize: 1000, budget: 'full' }, taskQueue: worker.taskQueue, trigger: 'test' });
      const batches = () =>
        db.pool
          .query<{ batch_no: number; examined: number }>(
            'SELECT b.batch_no, b.examined::int FROM auth_maintenance.purge_batch b JOIN auth_maintenance.maintenance_run r ON r.id = b.run_id WHERE r.workflow_id = $1 ORDER BY b.batch_no',
            [handle.workflowId],
          )
          .then((r) => r.rows);
      await until(async () => (await batches()).length >= 1, 'a first batch');
      // The application, for 3 s: an update of the stats row every 20 ms (it waits whenever a batch holds it).
      const appUntil = Date.now() + 3_000;
      while (Date.now() < appUntil) {
        await app.query('UPDATE public.token_stats SET touched = now() WHERE id = 1');
        await new Promise((r) => setTimeout(r, 20));
      }
      const result = await handle.result();
      expect(result).toMatchObject({ status: 'completed', deleted: 12_000 });
      expect(await count()).toBe(100);
      const sizes = (await batches()).map((b) => b.examined);
      // In the ledger: the first batch ran before the application came, at the planned size; the batches that
      // blocked it shrank, halving; once it stopped, they grew back to the planned size (the last two end the lane).
      expect(sizes[0]).toBe(1000);
      const smallest = sizes.indexOf(Math.min(...sizes.slice(0, -2)));
      expect(sizes[smallest]).toBeLessThanOrEqual(250);
      expect(sizes.slice(smallest, -2)).toContain(1000);
      const p = await handle.query(progressQuery);
      expect(p.throttle?.totalMs.blocking ?? 0).toBeGreaterThan(0);
      expect(await throttledSeconds('blocking')).toBeGreaterThan(blockingBefore);
    } finally {
      await app.end();
      await db.pool.query('DROP TRIGGER count_deleted ON outstanding_token');
      await db.pool.query('DROP FUNCTION public.count_deleted()');
    }
  });

  it('waits while the throttle query says so and goes on when it stops; refuses a bad live change and carries a good one across continue-as-new', async () => {
    await reset();
    await seedBulk(db, { expired: 6_000, valid: 100, cutoff: new Date(Date.now() - 60_000) });
    await hold(true);
    const before = await throttledSeconds('throttle-query');
    const handle = await startHandle(client, { job: 'purge-expired-tokens', params: { batchSize: 500, batchesPerRun: 3, budget: 'full' }, taskQueue: worker.taskQueue, trigger: 'test' });
    const reason = await until(async () => throttleOf((await handle.describe()).raw.pendingActivities ?? []) ?? undefined, 'the lane to wait on the throttle query', 30_000);
    expect(reason.reason).toBe('the throttle query (MAINT_BRAKE_THROTTLE_QUERY) says to wait');
    expect(reason.sinceMs).toBeGreaterThan(Date.now() - 30_000);
    await new Promise((r) => setTimeout(r, 3_500));
    expect(await count()).toBe(6_100);
    // The workflow knows it too once the lane hands back: its progress and the Web UI's current details.
    const p = await until(async () => {
      const q = await handle.query(progressQuery);
      return q.throttle?.reason ? q : undefined;
    }, 'the progress to say why');
    expect(p.throttle).toMatchObject({ reason: 'the throttle query (MAINT_BRAKE_THROTTLE_QUERY) says to wait', kind: 'throttle-query' });
    expect(p.budget).toMatchObject({ name: 'full', maxReplicaLag: 2, sleepCoef: 0 });
    const details = ((await handle.query('__temporal_workflow_metadata')) as { currentDetails?: string }).currentDetails ?? '';
    expect(details).toMatch(/\*\*throttled\*\* for \d+ s: the throttle query \(MAINT_BRAKE_THROTTLE_QUERY\) says to wait/);
    expect(await throttledSeconds('throttle-query')).toBeGreaterThan(before);

    // Refused before they are accepted, by name and range: nothing is recorded in the history, nothing changes.
    const refusal = (req: unknown) => handle.executeUpdate(controlUpdate, { args: [req as never] }).then(() => 'accepted', (err: Error & { cause?: Error }) => err.cause?.message ?? err.message);
    expect(await refusal({ maxReplicaLag: 5000 })).toMatch(/^control\.maxReplicaLag: number 5000 is not allowed; expected a number from 0 to 3600/);
    expect(await refusal({ maxReplicaLag: 10 })).toBe("control.maxReplicaLag: 10 is not allowed on this worker; expected more than 0 and at most 2 (MAINT_BRAKE_REPLICA_LAG_MS, the deployment's limit)");
    expect(await refusal({ parallel: 6 })).toBe('control.parallel: 6 is not allowed on this worker; expected an integer from 1 to 4 (MAINT_MAX_PARALLEL), or null for the planned lanes');
    expect(await refusal({ sleepCoef: 'slow' })).toMatch(/^control\.sleepCoef: the string "slow" is not allowed; expected a number from 0 to 100/);
    const cli = await maint(['control', handle.workflowId, '--max-replica-lag', '9'], env);
    expect(cli.code).not.toBe(0);
    expect(cli.stderr).toContain('control.maxReplicaLag: 9 is not allowed on this worker');
    const history = await handle.fetchHistory();
    expect((history.events ?? []).filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes)).toHaveLength(0);
    expect((await handle.query(progressQuery)).control).toEqual({ paused: false, batchSize: null });

    const ok = await maint(['control', handle.workflowId, '--max-replica-lag', '1.5', '--sleep-coef', '0.5', '--parallel', '1', '--json'], env);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toEqual([{ workflowId: handle.workflowId, paused: false, batchSize: null, parallel: 1, budget: { maxReplicaLag: 1.5, sleepCoef: 0.5 } }]);
    await hold(false);
    const result = await handle.result();
    expect(result).toMatchObject({ status: 'completed', deleted: 6_000 });
    // 12 batches of 500 at 3 per run: the last run is a continuation, and it kept the operator's change.
    const last = await client.workflow.getHandle(handle.workflowId).query(progressQuery);
    expect(last.control).toEqual({ paused: false, batchSize: null, parallel: 1, budget: { maxReplicaLag: 1.5, sleepCoef: 0.5 } });
    expect(last.budget).toMatchObject({ maxReplicaLag: 1.5, sleepCoef: 0.5 });
    expect(last.throttle?.totalMs['throttle-query'] ?? 0).toBeGreaterThan(3_000);
    expect((await client.workflow.getHandle(handle.workflowId).describe()).runId).not.toBe(handle.firstExecutionRunId);
  });

  it('ends the run as partial when a critical value lasts, records and notifies why, and the next run goes on', async () => {
    await reset();
    await seedBulk(db, { expired: 8_000, valid: 100, cutoff: new Date(Date.now() - 60_000) });
    const busy = await Promise.all([1, 2, 3].map(appSession));
    const sleeping = busy.map((c) => c.query('SELECT pg_sleep(15)'));
    try {
      const r = await maint(['run', 'purge-expired-tokens', '--batch-size', '500', '--max-active-sessions', '2', '--critical-active-sessions', '2', '--critical-for', '2', '--wait', '--json', '--workflow-id', 'budget-critical'], env);
      expect(r.code, r.stderr).toBe(0);
      const result = JSON.parse(r.stdout);
      expect(result).toMatchObject({ status: 'partial', deleted: 0 });
    } finally {
      await Promise.all(sleeping);
      await Promise.all(busy.map((c) => c.end()));
    }
    const runs = await maint(['runs', '--json', '--job', 'purge-expired-tokens'], env);
    expect(runs.code, runs.stderr).toBe(0);
    const row = (JSON.parse(runs.stdout) as Array<{ workflow_id: string; status: string; error: string }>).find((x) => x.workflow_id === 'budget-critical')!;
    expect(row.status).toBe('partial');
    expect(row.error).toMatch(/^stopped by the budget's critical threshold: 3 other sessions are running statements, over the critical criticalActiveSessions 2; the next run goes on from here$/);
    const post = await until(async () => http.posts.find((p) => p.body.kind === 'run-partial'), 'the notification');
    expect(post.body).toMatchObject({ kind: 'run-partial', job: 'purge-expired-tokens', data: { status: 'partial' } });
    // Nothing lost: the next run deletes what is left, exactly.
    const next = await maint(['run', 'purge-expired-tokens', '--batch-size', '500', '--wait', '--json'], env);
    expect(next.code, next.stderr).toBe(0);
    expect(JSON.parse(next.stdout)).toMatchObject({ status: 'completed', deleted: 8_000 });
    expect(await count()).toBe(100);
  });
});
