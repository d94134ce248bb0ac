import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { connectTestClient, createTestDatabase, scalar, startTestWorker, uniqueName, until, type TestDatabase, type TestWorker } from './support/env.js';
import { maint, type CliResult } from './support/cli.js';
import type { Progress, PurgeResult } from '../src/purge/types.js';
import { progressQuery } from '../src/temporal/queries.js';
import { backlogByJob } from '../src/db/run-record.js';
import { dbFromPool } from '../src/db/query.js';

/**
 * The circuit breakers against the real server and database: a row cap and a time limit stop a run cleanly as
 * partial and the next run goes on exactly where it left (nothing counted twice, nothing skipped, nothing else
 * deleted); the fraction guard refuses a run that would take most of the accounts before any row changes, on record.
 */

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

/** The run's reference time: every run of a test matches the same rows. */
const AS_OF = new Date(Date.now() - 60_000).toISOString();

/**
 * `total` tokens: every third valid (expiring after AS_OF), the others expired, so a batch's key chunk holds both; every
 * 10th blacklisted. Returns the ids that must stay.
 */
async function seedInterleaved(total: number): Promise<{ expired: number; keep: string[] }> {
  await db.pool.query('TRUNCATE outstanding_token, blacklisted_token RESTART IDENTITY');
  await db.pool.query(
    `INSERT INTO outstanding_token (jti, user_id, token, created_at, expires_at)
     SELECT 'b-' || g, g % 100, 't', $1::timestamptz - interval '2 days',
            CASE WHEN g % 3 = 0 THEN $1::timestamptz + interval '1 hour' ELSE $1::timestamptz - (g || ' seconds')::interval END
       FROM generate_series(1, $2::int) g`,
    [AS_OF, total],
  );
  await db.pool.query('INSERT INTO blacklisted_token (token_id) SELECT id FROM outstanding_token WHERE id % 10 = 0');
  await db.pool.query('ANALYZE outstanding_token');
  const { rows } = await db.pool.query<{ id: string }>('SELECT id::text FROM outstanding_token WHERE expires_at >= $1 ORDER BY id', [AS_OF]);
  return { expired: total - rows.length, keep: rows.map((r) => r.id) };
}

const expiredLeft = () => scalar(db, 'SELECT count(*) FROM outstanding_token WHERE expires_at < $1', [AS_OF]);
const remaining = async () => (await db.pool.query<{ id: string }>('SELECT id::text FROM outstanding_token ORDER BY id')).rows.map((r) => r.id);

function resultOf(r: CliResult): PurgeResult {
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as PurgeResult;
}

async function auditRow(workflowId: string): Promise<Record<string, unknown>> {
  const { rows } = await db.pool.query('SELECT status, deleted, error, parameters FROM maintenance_run WHERE workflow_id = $1', [workflowId]);
  expect(rows).toHaveLength(1);
  return rows[0]!;
}

const purge = (workflowId: string, ...flags: string[]) =>
  maint(['run', 'purge-expired-tokens', '--as-of', AS_OF, '--wait', '--json', '--workflow-id', workflowId, ...flags], env);

describe('--max-rows', () => {
  /** Runs capped at `cap` until one completes; each changes at most `cap` rows; together exactly the matching rows. */
  async function capRuns(cap: number, flags: string[]): Promise<PurgeResult[]> {
    const results: PurgeResult[] = [];
    for (let i = 0; i < 10; i++) {
      const id = uniqueName('cap');
      const r = resultOf(await purge(id, '--max-rows', String(cap), ...flags));
      results.push(r);
      const row = await auditRow(id);
      expect(Number(row.deleted)).toBe(r.deleted);
      expect(row.parameters).toMatchObject({ maxRows: cap });
      if (r.status === 'completed') break;
      // Stopped at the cap exactly (the last batches capped, not one batch over), on record as partial with the reason.
      expect(r).toMatchObject({ status: 'partial', deleted: cap, stopped: { by: 'maxRows' }, limits: { maxRows: cap } });
      expect(r.stopped!.reason).toMatch(/^stopped at its row limit: maxRows \d+ reached/);
      expect(row).toMatchObject({ status: 'partial', error: r.stopped!.reason });
    }
    return results;
  }

  it.each([
    ['a timestamp walk, two lanes, fixed batches', [] as string[], ['--batch-size', '100', '--parallel', '2']],
    ['a key walk (no index on the expiry), two lanes, adaptive chunks', ['DROP INDEX outstanding_token_expires_at_idx'], ['--parallel', '2']],
  ])('stops at the cap and the next run goes on exactly: %s', async (_name, setup, flags) => {
    for (const sql of setup) await db.pool.query(sql);
    const { expired, keep } = await seedInterleaved(6_000);
    const blacklistedKept = await scalar(db, 'SELECT count(*) FROM blacklisted_token b JOIN outstanding_token t ON t.id = b.token_id WHERE t.expires_at >= $1', [AS_OF]);
    const results = await capRuns(1_234, flags);
    // 4,000 expired rows in runs of 1,234: three partial runs, then one that completes with the rest.
    expect(results.map((r) => r.status)).toEqual(['partial', 'partial', 'partial', 'completed']);
    expect(results.at(-1)!.deleted).toBe(expired - 3 * 1_234);
    expect(results.reduce((a, r) => a + r.deleted, 0)).toBe(expired);
    // Nothing left that matches, nothing deleted that did not.
    expect(await expiredLeft()).toBe(0);
    expect(await remaining()).toEqual(keep);
    expect(await scalar(db, 'SELECT count(*) FROM blacklisted_token')).toBe(blacklistedKept);
    // The plans say which walk ran.
    expect(results[0]!.plans![0]!.strategy).toBe(setup.length ? 'key-chunks' : 'timestamp-index');
  });

  it("a capped run's backlog (maint_backlog_rows) is what it matched and left, not the table's rows", async () => {
    const { expired } = await seedInterleaved(6_000);
    const r = resultOf(await purge(uniqueName('cap-backlog'), '--max-rows', '1000', '--batch-size', '250'));
    expect(r).toMatchObject({ status: 'partial', deleted: 1_000 });
    const backlog = await backlogByJob(dbFromPool(db.pool));
    // 4,000 matched (an estimate: the planner's), 1,000 deleted; the table has 6,000 rows.
    const left = Number(backlog.find((b) => b.job === 'purge-expired-tokens')!.left);
    expect(left).toBeGreaterThan((expired - 1_000) * 0.8);
    expect(left).toBeLessThan((expired - 1_000) * 1.2);
  });

  it('counts the whole run, all steps together', async () => {
    // revoke-then-delete: step 1 marks expired access tokens revoked, step 2 deletes the long-revoked ones.
    await db.pool.query('TRUNCATE access_token RESTART IDENTITY CASCADE');
    await db.pool.query(
      `INSERT INTO access_token (token, user_id, created_at, expires_at, revoked, revoked_at)
       SELECT 't' || g, NULL, now() - interval '200 days', now() - interval '1 day', g > 300, CASE WHEN g > 300 THEN now() - interval '100 days' END
         FROM generate_series(1, 500) g`,
    );
    const run = (id: string) => maint(['run', 'revoke-then-delete-access-tokens', '--as-of', AS_OF, '--max-rows', '250', '--batch-size', '40', '--wait', '--json', '--workflow-id', id], env);
    const first = resultOf(await run(uniqueName('steps')));
    // 300 to mark revoked in step 1: the cap stops the run inside it.
    expect(first).toMatchObject({ status: 'partial', updated: 250, deleted: 0 });
    const second = resultOf(await run(uniqueName('steps')));
    // 50 more to mark, then 200 of the 200 to delete (the cap counts both steps)
    expect(second).toMatchObject({ status: 'partial', updated: 50, deleted: 200 });
    const third = resultOf(await run(uniqueName('steps')));
    // What is left: the 300 marked now (revoked_at = the run's time, not 90 days ago): nothing to delete yet.
    expect(third).toMatchObject({ status: 'completed', updated: 0, deleted: 0 });
    expect(await scalar(db, 'SELECT count(*) FROM access_token')).toBe(300);
    expect(await scalar(db, 'SELECT count(*) FROM access_token WHERE NOT revoked')).toBe(0);
  });
});

describe('--max-duration', () => {
  it('stops a run between batches once its time is up, on record as partial, and the next run goes on', async () => {
    const { expired, keep } = await seedInterleaved(3_000);
    // Every batch takes 300 ms more (a trigger), so the run would take some 20 s.
    await db.pool.query(`CREATE FUNCTION slow_delete() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.3); RETURN NULL; END $$`);
    await db.pool.query('CREATE TRIGGER slow_delete BEFORE DELETE ON outstanding_token FOR EACH STATEMENT EXECUTE FUNCTION slow_delete()');
    const id = uniqueName('window');
    let r: PurgeResult;
    try {
      const running = purge(id, '--max-duration', '4s', '--batch-size', '50', '--parallel', '1');
      // While it runs: the limit in the progress query and the Web UI's current details.
      const handle = client.workflow.getHandle(id);
      const progress = await until(async () => {
        const p = (await handle.query(progressQuery)) as Progress;
        return p.batches > 0 ? p : undefined;
      }, 'a first batch');
      expect(progress.limits).toMatchObject({ maxDurationSeconds: 4, stopsAt: expect.any(String) });
      const meta = (await handle.query('__temporal_workflow_metadata')) as { currentDetails?: string };
      expect(meta.currentDetails).toContain(`limits: stops between batches at ${progress.limits!.stopsAt}`);
      r = resultOf(await running);
    } finally {
      await db.pool.query('DROP TRIGGER slow_delete ON outstanding_token');
    }
    expect(r).toMatchObject({ status: 'partial', stopped: { by: 'maxDurationSeconds' }, limits: { maxDurationSeconds: 4 } });
    expect(r.stopped!.reason).toMatch(/^stopped at its time limit: maxDurationSeconds 4 \(4 s\) passed after \d+ rows/);
    expect(r.deleted).toBeGreaterThan(0);
    expect(r.deleted).toBeLessThan(expired);
    const row = await auditRow(id);
    expect(row).toMatchObject({ status: 'partial', error: r.stopped!.reason });
    // No batch began after the limit (a batch's committed_at is its transaction's start).
    const { rows: [times] } = await db.pool.query(
      `SELECT max(b.committed_at) AS last, r.started_at + interval '4 seconds' AS limit_at FROM purge_batch b JOIN maintenance_run r ON r.id = b.run_id
        WHERE r.workflow_id = $1 GROUP BY r.started_at`,
      [id],
    );
    expect(new Date(times.last).getTime()).toBeLessThan(new Date(times.limit_at).getTime());
    // It ended within about one batch of the limit.
    expect(r.durationMs).toBeGreaterThanOrEqual(4_000);
    expect(r.durationMs).toBeLessThan(9_000);

    // The next run (the schedule's next tick) takes the rest.
    const next = resultOf(await purge(uniqueName('window'), '--max-duration', '30m'));
    expect(next).toMatchObject({ status: 'completed', limits: { maxDurationSeconds: 1_800 } });
    expect(r.deleted + next.deleted).toBe(expired);
    expect(await remaining()).toEqual(keep);
  });
});

describe('the fraction guard', () => {
  /** `total` accounts created 200 days ago, `stale` of them unverified, each with a verification token. */
  async function seedAccounts(total: number, stale: number): Promise<void> {
    await db.pool.query('TRUNCATE account RESTART IDENTITY CASCADE');
    await db.pool.query(
      `INSERT INTO account (email, is_verified, created_at) SELECT 'u' || g || '@example.com', g > $2::int, now() - interval '200 days' FROM generate_series(1, $1::int) g`,
      [total, stale],
    );
    await db.pool.query(`INSERT INTO verification_token (token, token_type, user_id, expires_at) SELECT 'v' || id, 'email_verification', id, now() + interval '1 day' FROM account`);
  }
  const counts = async () => ({ accounts: await scalar(db, 'SELECT count(*) FROM account'), tokens: await scalar(db, 'SELECT count(*) FROM verification_token'), unverified: await scalar(db, 'SELECT count(*) FROM account WHERE NOT is_verified') });
  const accounts = (id: string, ...flags: string[]) => maint(['run', 'purge-stale-unverified-accounts', '--wait', '--json', '--workflow-id', id, ...flags], env);

  it('refuses, before any row changes, a run that would delete most accounts; on record; --max-fraction lets it go', async () => {
    await seedAccounts(1_000, 700);
    const before = await counts();
    const id = uniqueName('guard');
    const refused = await accounts(id);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('refused by the fraction guard before any row changed: step account would change 700 of the 1000 rows of account (70%), more than maxFraction 0.5 (50%)');
    expect(refused.stderr).toContain('--max-fraction 1');
    expect(await counts()).toEqual(before);
    // On record in the audit, as `maint runs` shows it: failed, with the reason, and no batch.
    const runs = JSON.parse((await maint(['runs', '--json', '--job', 'purge-stale-unverified-accounts'], env)).stdout) as Array<Record<string, unknown>>;
    const mine = runs.find((r) => r.workflow_id === id)!;
    expect(mine).toMatchObject({ status: 'failed', deleted: '0', batches: 0 });
    expect(String(mine.error)).toMatch(/^refused by the fraction guard before any row changed: step account would change 700 of the 1000 rows/);
    expect(await scalar(db, 'SELECT count(*) FROM purge_batch b JOIN maintenance_run r ON r.id = b.run_id WHERE r.workflow_id = $1', [id])).toBe(0);
    expect((await auditRow(id)).parameters).toMatchObject({ maxFraction: 0.5 });

    // A dry run says what a real run would meet.
    const dry = resultOf(await accounts(uniqueName('guard'), '--dry-run'));
    expect(dry.notes).toEqual(expect.arrayContaining([expect.stringMatching(/^a real run would be refused by the fraction guard/)]));
    expect(dry.shares).toEqual([{ step: 'account', table: 'account', matched: 700, tableRows: 1000, exact: true }]);
    expect(dry.limits).toEqual({ maxFraction: 0.5 });

    const text = await maint(['run', 'purge-stale-unverified-accounts', '--dry-run', '--wait'], env);
    expect(text.stdout).toMatch(/fraction guard: account\s+700 of 1000 rows of account \(70%, over maxFraction 0\.5\)/);
    expect(text.stdout).toMatch(/limits\s+maxFraction 0\.5/);

    // The operator looked and means it.
    const allowed = resultOf(await accounts(uniqueName('guard'), '--max-fraction', '1'));
    expect(allowed).toMatchObject({ status: 'completed', deleted: 700, children: { verification_token: 700 } });
    expect(await counts()).toEqual({ accounts: 300, tokens: 300, unverified: 0 });
  });

  it('lets a share within the limit go, and never trips on a table of a few rows', async () => {
    await seedAccounts(1_000, 300);
    expect(resultOf(await accounts(uniqueName('guard')))).toMatchObject({ status: 'completed', deleted: 300, shares: [{ matched: 300, tableRows: 1000 }] });
    await seedAccounts(8, 6);
    expect(resultOf(await accounts(uniqueName('guard')))).toMatchObject({ status: 'completed', deleted: 6 });
  });

  it('is off for token purges unless asked for, where it refuses the same way', async () => {
    const { expired } = await seedInterleaved(3_000);
    const before = await remaining();
    const id = uniqueName('guard-tokens');
    const refused = await purge(id, '--max-fraction', '0.5');
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(`step outstanding_token would change ${expired} of the 3000 rows of outstanding_token (66.7%), more than maxFraction 0.5 (50%)`);
    expect(await remaining()).toEqual(before);
    expect(await auditRow(id)).toMatchObject({ status: 'failed' });
    // Without the flag, a backlog of two thirds of the table goes as usual.
    expect(resultOf(await purge(uniqueName('guard-tokens')))).toMatchObject({ status: 'completed', deleted: expired });
  });
});

describe('bad values', () => {
  it.each([
    [['--max-rows', '0'], '--max-rows: "0" is not allowed; expected an integer from 1 to 1000000000000'],
    [['--max-duration', '10 minutes'], '--max-duration: "10 minutes" is not allowed; expected a duration of 1 s to 7 days'],
    [['--max-fraction', '1.5'], '--max-fraction: "1.5" is not allowed; expected a share of the table greater than 0 and at most 1'],
  ])('maint run %j is refused naming the flag, before anything starts', async (flags, message) => {
    const r = await maint(['run', 'purge-expired-tokens', ...flags], env);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(message);
  });

  it('a start that bypasses the CLI is refused by the workflow, naming the field, and on record', async () => {
    const workflowId = uniqueName('raw-breaker');
    const handle = await client.workflow.start('batchedPurge', { taskQueue: worker.taskQueue, workflowId, args: [{ job: 'purge-expired-tokens', params: { maxRows: -5 }, trigger: 'test' }] });
    const err = await handle.result().then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect(String((err as WorkflowFailedError).cause?.message)).toMatch(/^maxRows: -5 is not allowed; expected an integer from 1 to/);
    expect(await auditRow(workflowId)).toMatchObject({ status: 'failed' });
  });
});
