import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import type { Client, ScheduleDescription } from '@temporalio/client';
import type { ScheduleDeclaration } from '../src/catalogue/schedules.js';
import { DISABLED_NOTE, syncSchedules } from '../temporal-schedules/sync.js';
import { Catalogue } from '../src/catalogue/index.js';
import { connectTestClient, createTestDatabase, deleteSchedule, seedBulk, startTestWorker, uniqueName, until, type TestDatabase, type TestWorker } from './support/env.js';
import { maint } from './support/cli.js';

const run = promisify(execFile);
let client: Client;
let db: TestDatabase;
let worker: TestWorker;
let slowWorker: TestWorker;
let env: Record<string, string>;
const catalogue = new Catalogue();

beforeAll(async () => {
  client = await connectTestClient();
  db = await createTestDatabase();
  worker = await startTestWorker(db);
  // Purges that take a few seconds, to exercise overlap policies.
  slowWorker = await startTestWorker(db, { faults: { afterBatchCommit: () => new Promise((r) => setTimeout(r, 1_000)) } });
  env = { TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_TASK_QUEUE: worker.taskQueue, DATABASE_URL: db.url };
});
afterAll(async () => {
  // Only this file's schedules (those on its queues): other test files share the server and have their own.
  const ours = new Set([worker.taskQueue, slowWorker.taskQueue]);
  for await (const s of client.schedule.list()) {
    const handle = client.schedule.getHandle(s.scheduleId);
    const d = await handle.describe().catch(() => undefined);
    if (d?.action.type === 'startWorkflow' && ours.has(d.action.taskQueue)) await deleteSchedule(client, s.scheduleId).catch(() => undefined);
  }
  await worker.stop();
  await slowWorker.stop();
  await client.connection.close();
  await db.close();
});

/** The `temporal` CLI against the test server, as an operator would type it. */
async function temporal(...args: string[]): Promise<string> {
  const { stdout } = await run(inject('temporalCliPath'), [...args, '--address', inject('temporalAddress')]);
  return stdout;
}

function decl(id: string, over: Partial<ScheduleDeclaration> = {}): ScheduleDeclaration {
  return { id, job: 'purge-expired-tokens', cron: ['0 0 * * *'], timezone: 'UTC', overlap: 'SKIP', catchupWindow: '1h', pauseOnFailure: true, note: `declared ${id}`, ...over };
}

const describeSchedule = (id: string): Promise<ScheduleDescription> => client.schedule.getHandle(id).describe();
const ops = (plan: Array<{ op: string; id: string }>) => plan.map((s) => `${s.op} ${s.id}`).sort();

/** Waits until no run on the queue is still going, so the next test's data is its own. */
async function drained(taskQueue: string): Promise<void> {
  await new Promise((r) => setTimeout(r, 1_000));
  await until(async () => {
    for await (const _ of client.workflow.list({ query: `TaskQueue = '${taskQueue}' AND ExecutionStatus = 'Running'` })) return undefined;
    return true;
  }, `no running workflows on ${taskQueue}`);
}

/** Waits for the runs a schedule started to finish, so no purge of theirs touches the data seeded next. */
async function runsFinished(d: ScheduleDescription): Promise<void> {
  for (const { action } of d.info.recentActions) {
    if (action.type === 'startWorkflow') await client.workflow.getHandle(action.workflow.workflowId).result().catch(() => undefined);
  }
}

async function actionsSettled(id: string, expected: number): Promise<ScheduleDescription> {
  return until(async () => {
    const d = await describeSchedule(id);
    return d.info.numActionsTaken >= expected ? d : undefined;
  }, `${expected} actions of ${id}`, 30_000);
}

describe('schedules as code', () => {
  it('sync creates what is missing, is idempotent, keeps an operator pause, updates and deletes only its own', async () => {
    const [a, b] = [uniqueName('sync-a'), uniqueName('sync-b')];
    const foreign = uniqueName('foreign');
    await client.schedule.create({ scheduleId: foreign, spec: { intervals: [{ every: '1 day' }] }, action: { type: 'startWorkflow', workflowType: 'someoneElses', taskQueue: 'elsewhere', args: [] } });

    expect(ops(await syncSchedules(client, [decl(a), decl(b)], { taskQueue: worker.taskQueue, catalogue }))).toEqual([`create ${a}`, `create ${b}`].sort());
    expect((await describeSchedule(a)).state).toMatchObject({ paused: false, note: `declared ${a}` });
    expect(ops(await syncSchedules(client, [decl(a), decl(b)], { taskQueue: worker.taskQueue, catalogue }))).toEqual([`unchanged ${a}`, `unchanged ${b}`].sort());

    // An operator pauses a from our CLI; a sync keeps it, even when a's cadence changes.
    const paused = await maint(['schedules', 'pause', a, '--note', 'incident 42: database failover'], env);
    expect(paused.code, paused.stderr).toBe(0);
    expect(ops(await syncSchedules(client, [decl(a), decl(b)], { taskQueue: worker.taskQueue, catalogue }))).toEqual([`unchanged ${a}`, `unchanged ${b}`].sort());
    const plan = await syncSchedules(client, [decl(a, { cron: ['0 3 * * *'] }), decl(b)], { taskQueue: worker.taskQueue, catalogue });
    // The plan says what changes, field by field, in the declaration's words.
    expect(plan.find((s) => s.id === a)).toEqual({ op: 'update', id: a, keepPause: true, changes: ['cron: ["0 0 * * *"] -> ["0 3 * * *"]'] });
    const afterUpdate = await describeSchedule(a);
    expect(afterUpdate.state).toMatchObject({ paused: true, note: 'incident 42: database failover' });
    expect(afterUpdate.spec.calendars?.[0]).toMatchObject({ hour: [{ start: 3, end: 3, step: 1 }] });

    // Dry run prints the plan and changes nothing; --reset-pauses unpauses.
    const dry = await syncSchedules(client, [decl(b)], { taskQueue: worker.taskQueue, dryRun: true, catalogue });
    expect(dry.find((s) => s.id === a)?.op).toBe('delete');
    await describeSchedule(a);
    expect(ops(await syncSchedules(client, [decl(a, { cron: ['0 3 * * *'] }), decl(b)], { taskQueue: worker.taskQueue, resetPauses: true, catalogue }))).toEqual([`unchanged ${b}`, `unpause ${a}`].sort());
    expect((await describeSchedule(a)).state.paused).toBe(false);

    // a removed from code: deleted. The foreign schedule is never touched, even when a declaration takes its id.
    await until(async () => (await syncSchedules(client, [decl(b)], { taskQueue: worker.taskQueue, dryRun: true, catalogue })).some((s) => s.op === 'delete' && s.id === a), 'a listed');
    const removal = await syncSchedules(client, [decl(b), decl(foreign)], { taskQueue: worker.taskQueue, catalogue });
    expect(removal.filter((s) => s.op !== 'unchanged')).toEqual(expect.arrayContaining([{ op: 'delete', id: a }, { op: 'skip-foreign', id: foreign }]));
    await expect(describeSchedule(a)).rejects.toThrow();
    expect((await describeSchedule(foreign)).action.workflowType).toBe('someoneElses');
    await deleteSchedule(client, foreign);
    await deleteSchedule(client, b);
  });

  it('schedules stay with the task queue they run on: another worker leaves them, says so, and takes them only when told', async () => {
    const [mine, gone] = [uniqueName('owned'), uniqueName('owned-undeclared')];
    const other = uniqueName('other-queue');
    expect(ops(await syncSchedules(client, [decl(mine), decl(gone)], { taskQueue: worker.taskQueue, catalogue }))).toEqual([`create ${gone}`, `create ${mine}`].sort());

    // A worker of another queue declares only `mine`: it changes neither, and deletes nothing it does not own.
    const refused = await syncSchedules(client, [decl(mine)], { taskQueue: other, catalogue });
    expect(refused).toContainEqual({ op: 'skip-owned', id: mine, owner: { namespace: 'default', taskQueue: worker.taskQueue } });
    expect(refused.some((s) => s.id === gone)).toBe(false);
    const d = await describeSchedule(mine);
    expect(d.action.type === 'startWorkflow' && d.action.taskQueue).toBe(worker.taskQueue);
    await describeSchedule(gone);

    // Told to take it over, it moves `mine` and says from where; what the first queue alone declared stays its own.
    const taken = await syncSchedules(client, [decl(mine)], { taskQueue: other, catalogue, takeOver: true });
    expect(taken.find((s) => s.id === mine)).toMatchObject({ op: 'update', takeOver: { taskQueue: worker.taskQueue }, changes: [`taskQueue: "${worker.taskQueue}" -> "${other}"`] });
    const moved = await describeSchedule(mine);
    expect(moved.action.type === 'startWorkflow' && moved.action.taskQueue).toBe(other);
    await describeSchedule(gone);
    await deleteSchedule(client, mine);
    await deleteSchedule(client, gone);
  });

  it('enabled: false pauses a schedule with a note and keeps it; enabled again, sync lifts its own pause; unpause restores the declared note', async () => {
    const id = uniqueName('toggle');
    await syncSchedules(client, [decl(id)], { taskQueue: worker.taskQueue, catalogue });
    const off = await syncSchedules(client, [], { taskQueue: worker.taskQueue, catalogue, disabled: [id] });
    expect(off).toContainEqual({ op: 'disable', id });
    expect(off.some((s) => s.op === 'delete' && s.id === id)).toBe(false);
    expect((await describeSchedule(id)).state).toMatchObject({ paused: true, note: DISABLED_NOTE });
    expect(await syncSchedules(client, [], { taskQueue: worker.taskQueue, catalogue, disabled: [id] })).toContainEqual({ op: 'disabled', id, exists: true });
    const neverMade = uniqueName('never-made');
    expect(await syncSchedules(client, [], { taskQueue: worker.taskQueue, catalogue, disabled: [id, neverMade] })).toContainEqual({ op: 'disabled', id: neverMade, exists: false });
    await expect(describeSchedule(neverMade)).rejects.toThrow();

    expect(await syncSchedules(client, [decl(id)], { taskQueue: worker.taskQueue, catalogue })).toContainEqual({ op: 'unpause', id });
    expect((await describeSchedule(id)).state).toMatchObject({ paused: false, note: `declared ${id}` });

    // An operator's pause replaces the note; `maint schedules unpause` puts the declared one back.
    const builtIn = catalogue.schedules().find((d) => d.enabledByDefault !== false && d.jitter)!;
    await syncSchedules(client, [builtIn], { taskQueue: worker.taskQueue, catalogue });
    await maint(['schedules', 'pause', builtIn.id, '--note', 'incident 7'], env);
    const un = await maint(['schedules', 'unpause', builtIn.id], env);
    expect(un.code, un.stderr).toBe(0);
    expect((await describeSchedule(builtIn.id)).state).toMatchObject({ paused: false, note: builtIn.note });

    // describe says when it runs in the declaration's words, and where its runs go.
    const described = await maint(['schedules', 'describe', builtIn.id], env);
    expect(described.stdout).toContain(`cron ${builtIn.cron!.join(' | ')}`);
    expect(described.stdout).toContain(`jitter ${builtIn.jitter ?? 'none'}`);
    expect(described.stdout).toContain(`task queue ${worker.taskQueue}, namespace default`);
    await deleteSchedule(client, id);
  });

  it('a paused schedule fires nothing; unpaused it fires again', async () => {
    const id = uniqueName('every2s');
    await syncSchedules(client, [decl(id, { cron: undefined, every: '2s', overlap: 'ALLOW_ALL' })], { taskQueue: worker.taskQueue, catalogue });
    await actionsSettled(id, 1);
    await maint(['schedules', 'pause', id, '--note', 'quiet please'], env);
    const before = (await describeSchedule(id)).info.numActionsTaken;
    await new Promise((r) => setTimeout(r, 6_000));
    expect((await describeSchedule(id)).info.numActionsTaken).toBe(before);
    const unpaused = await maint(['schedules', 'unpause', id], env);
    expect(unpaused.code, unpaused.stderr).toBe(0);
    await actionsSettled(id, before + 1);
    await deleteSchedule(client, id);
    await drained(worker.taskQueue);
    // Its own ticks are recorded as the schedule's, with nothing added.
    const { rows } = await db.pool.query('SELECT DISTINCT trigger FROM maintenance_run WHERE workflow_id LIKE $1', [`${id}-%`]);
    expect(rows).toEqual([{ trigger: `schedule:${id}` }]);
  });

  it('trigger runs the job now under the overlap policy, and the run carries its search attributes and trigger', async () => {
    const cutoff = new Date(Date.now() - 60_000);
    await db.pool.query('DELETE FROM blacklisted_token; DELETE FROM outstanding_token');
    await seedBulk(db, { expired: 80, valid: 5, cutoff });
    const id = uniqueName('trigger');
    await syncSchedules(client, [decl(id, { params: { batchSize: 10 } })], { taskQueue: slowWorker.taskQueue, catalogue });
    expect((await maint(['schedules', 'trigger', id], env)).code).toBe(0);
    const first = await actionsSettled(id, 1);
    // The purge is still running (9 batches of a second each): with SKIP a second trigger starts nothing.
    expect((await maint(['schedules', 'trigger', id], env)).code).toBe(0);
    await new Promise((r) => setTimeout(r, 1_500));
    const d = await describeSchedule(id);
    expect(d.info.numActionsTaken).toBe(1);
    expect(d.info.numActionsSkippedOverlap).toBe(1);

    const action = first.info.recentActions[0]!.action;
    const wf = action.type === 'startWorkflow' ? action.workflow : undefined;
    await client.workflow.getHandle(wf!.workflowId).result();
    const { rows } = await db.pool.query('SELECT trigger, deleted FROM maintenance_run WHERE workflow_id = $1', [wf!.workflowId]);
    // The audit tells an operator's trigger from the schedule's own tick (the search attribute names the schedule).
    expect(rows[0]).toEqual({ trigger: `schedule:${id}:trigger`, deleted: '80' });
    const found = await until(async () => {
      const ids: string[] = [];
      for await (const w of client.workflow.list({ query: `MaintJob = 'purge-expired-tokens' AND MaintTrigger = 'schedule:${id}' AND MaintDryRun = false` })) ids.push(w.workflowId);
      return ids.length ? ids : undefined;
    }, 'visibility');
    expect(found).toEqual([wf!.workflowId]);
    // The Web UI lists it by what it is and who started it, with its parameters in the details.
    const described = await client.workflow.getHandle(wf!.workflowId).describe();
    expect(await described.staticSummary()).toBe(`purge-expired-tokens · schedule:${id}`);
    expect(await described.staticDetails()).toContain('| `batchSize` | `10` |');
    await deleteSchedule(client, id);
  });

  it('backfill runs one action per missed tick with ALLOW_ALL, and only one at a time with SKIP', async () => {
    const id = uniqueName('backfill');
    // Ticks only in the first hour of January 1st: no live tick starts a purge of this database while the test runs.
    const firstHourOfTheYear = ['*/10 0 1 1 *'];
    await syncSchedules(client, [decl(id, { cron: firstHourOfTheYear, overlap: 'ALLOW_ALL' })], { taskQueue: worker.taskQueue, catalogue });
    // 00:00 to 00:55 has ticks at :00 :10 :20 :30 :40 :50.
    const r = await maint(['schedules', 'backfill', id, '--from', '2026-01-01T00:00:00Z', '--to', '2026-01-01T00:55:00Z'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('overlap ALLOW_ALL');
    const d = await actionsSettled(id, 6);
    await new Promise((res) => setTimeout(res, 1_000));
    expect((await describeSchedule(id)).info.numActionsTaken).toBe(6);
    expect(d.info.recentActions.map((a) => a.scheduledAt.toISOString()).slice(0, 6)).toEqual(['00', '10', '20', '30', '40', '50'].map((m) => `2026-01-01T00:${m}:00.000Z`));
    // The six backfilled purges run on this test's database: they must be over before it is seeded again.
    await runsFinished(await describeSchedule(id));
    const { rows: backfilled } = await db.pool.query('SELECT DISTINCT trigger FROM maintenance_run WHERE workflow_id LIKE $1', [`${id}-%`]);
    expect(backfilled).toEqual([{ trigger: `schedule:${id}:backfill` }]);

    const cutoff = new Date(Date.now() - 60_000);
    await db.pool.query('DELETE FROM blacklisted_token; DELETE FROM outstanding_token');
    await seedBulk(db, { expired: 30, valid: 0, cutoff });
    const skip = uniqueName('backfill-skip');
    const skipDecl = decl(skip, { cron: firstHourOfTheYear, overlap: 'SKIP', params: { batchSize: 10 } });
    await deleteSchedule(client, id);
    await syncSchedules(client, [skipDecl], { taskQueue: slowWorker.taskQueue, catalogue });
    expect((await maint(['schedules', 'backfill', skip, '--from', '2026-01-01T00:00:00Z', '--to', '2026-01-01T00:55:00Z'], env)).code).toBe(0);
    await actionsSettled(skip, 1);
    await new Promise((res) => setTimeout(res, 2_000));
    const s = await describeSchedule(skip);
    expect(s.info.numActionsTaken).toBe(1);
    expect(s.info.numActionsSkippedOverlap).toBe(5);
    await runsFinished(s);
    await deleteSchedule(client, skip);
  });

  it('the temporal CLI pauses, unpauses, triggers, backfills and describes our schedules too', async () => {
    const id = uniqueName('cli');
    await syncSchedules(client, [decl(id, { overlap: 'ALLOW_ALL' })], { taskQueue: worker.taskQueue, catalogue });

    await temporal('schedule', 'toggle', '--schedule-id', id, '--pause', '--reason', 'paused from temporal CLI');
    expect((await describeSchedule(id)).state).toMatchObject({ paused: true, note: 'paused from temporal CLI' });
    const described = await maint(['schedules', 'describe', id], env);
    expect(described.stdout).toMatch(/state\s+PAUSED — paused from temporal CLI/);
    // Sync keeps a pause made outside our CLI as well.
    expect((await syncSchedules(client, [decl(id, { overlap: 'ALLOW_ALL' })], { taskQueue: worker.taskQueue, catalogue }))[0]).toMatchObject({ op: 'unchanged', paused: true });

    await temporal('schedule', 'toggle', '--schedule-id', id, '--unpause', '--reason', 'back to normal');
    expect((await describeSchedule(id)).state.paused).toBe(false);

    await temporal('schedule', 'trigger', '--schedule-id', id);
    await actionsSettled(id, 1);
    await temporal('schedule', 'backfill', '--schedule-id', id, '--start-time', '2026-02-01T00:00:00Z', '--end-time', '2026-02-03T12:00:00Z', '--overlap-policy', 'AllowAll');
    await actionsSettled(id, 4); // one trigger + daily ticks on Feb 1, 2 and 3

    const json = JSON.parse(await temporal('schedule', 'describe', '--schedule-id', id, '--output', 'json'));
    expect(JSON.stringify(json)).toContain('batchedPurge');
    expect(await temporal('schedule', 'list')).toContain(id);
    const ours = await maint(['schedules', 'describe', id, '--json'], env);
    const out = JSON.parse(ours.stdout);
    expect(out.actionsTaken).toBe(4);
    expect(out.nextRuns).toHaveLength(5);
    await until(async () => {
      const d = JSON.parse((await maint(['schedules', 'describe', id, '--json'], env)).stdout);
      return d.recentActions.every((a: { status: string }) => a.status === 'COMPLETED') ? true : undefined;
    }, 'recent actions completed');
    // The audit tells the trigger from the three backfilled ticks, started from Temporal's own CLI as from ours.
    const { rows } = await db.pool.query('SELECT trigger, count(*)::int AS n FROM maintenance_run WHERE workflow_id LIKE $1 GROUP BY trigger ORDER BY trigger', [`${id}-%`]);
    expect(rows).toEqual([{ trigger: `schedule:${id}:backfill`, n: 3 }, { trigger: `schedule:${id}:trigger`, n: 1 }]);
    await deleteSchedule(client, id);
  });

  it('operator commands reject bad input by name before touching anything', async () => {
    const missing = await maint(['schedules', 'pause', 'no-such-schedule', '--note', 'x'], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/schedule: "no-such-schedule" does not exist; known:/);
    const noNote = await maint(['schedules', 'pause', 'x'], env);
    expect(noNote.stderr).toContain("required option '--note <text>' not specified");
    const badTime = await maint(['schedules', 'backfill', 'x', '--from', 'last tuesday', '--to', '2026-01-01T00:00:00Z'], env);
    expect(badTime.stderr).toMatch(/--from: "last tuesday" is not an ISO 8601 timestamp/);
    const badOverlap = await maint(['schedules', 'trigger', 'x', '--overlap', 'whenever'], env);
    expect(badOverlap.stderr).toMatch(/--overlap: "whenever" is not one of SKIP, BUFFER_ONE, BUFFER_ALL, CANCEL_OTHER, TERMINATE_OTHER, ALLOW_ALL/);
  });
});

describe('the Web UI as the place to look', () => {
  it('shows every declared schedule and a completed purge with its result (headless Chromium)', async () => {
    if (process.env.MAINT_SKIP_BROWSER === '1') return;
    const { chromium } = await import('playwright-core');
    const { effectiveSchedules } = await import('../temporal-schedules/overrides.js');
    const { mkdir } = await import('node:fs/promises');
    const declared = effectiveSchedules({}, catalogue);
    await syncSchedules(client, declared, { taskQueue: worker.taskQueue, catalogue });
    await db.pool.query('DELETE FROM blacklisted_token; DELETE FROM outstanding_token');
    await seedBulk(db, { expired: 700, valid: 300, cutoff: new Date(Date.now() - 60_000) });
    const purge = declared.find((d) => d.job === 'purge-expired-tokens')!;
    await maint(['schedules', 'trigger', purge.id], env);
    const d = await actionsSettled(purge.id, 1);
    const started = d.info.recentActions[0]!.action;
    const wf = started.type === 'startWorkflow' ? started.workflow : undefined;
    const result = await client.workflow.getHandle(wf!.workflowId).result();
    expect(result).toMatchObject({ status: 'completed', deleted: 700 });

    const ui = inject('temporalUiUrl');
    const shots = 'test/.artifacts/screenshots';
    await mkdir(shots, { recursive: true });
    const browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 800 } });
      await page.goto(`${ui}/namespaces/default/schedules`);
      for (const s of declared) await page.getByText(s.id).first().waitFor({ timeout: 30_000 });
      await page.screenshot({ path: `${shots}/schedules.png` });

      await page.goto(`${ui}/namespaces/default/workflows/${encodeURIComponent(wf!.workflowId)}/${wf!.firstExecutionRunId}/history`);
      await page.getByText('Completed').first().waitFor({ timeout: 30_000 });
      await page.getByText('batchedPurge').first().waitFor({ timeout: 30_000 });
      // The result panel shows the counts the purge returned.
      await page.getByText(/"deleted":\s*700/).first().waitFor({ timeout: 30_000 });
      await page.screenshot({ path: `${shots}/purge-completed.png`, fullPage: false });
    } finally {
      await browser.close();
    }
  });
});
