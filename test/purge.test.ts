import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { startHandle } from './support/start.js';

import type { FaultHooks } from '../activities/index.js';
import type { PurgeResult } from '../src/purge/types.js';
import { connectTestClient, createTestDatabase, scalar, seedBulk, seedTokens, startTestWorker, until, type TestDatabase, type TestWorker } from './support/env.js';

const JOB = 'purge-expired-tokens';
let client: Client;

beforeAll(async () => {
  client = await connectTestClient();
});
afterAll(async () => {
  await client.connection.close();
});

/** Each test gets its own database and worker so nothing leaks between them. */
async function setup(faults?: FaultHooks) {
  const db = await createTestDatabase();
  const worker = await startTestWorker(db, { faults });
  return {
    db,
    worker,
    async close() {
      await worker.stop();
      await db.close();
    },
  };
}

async function tokenIds(db: TestDatabase): Promise<string[]> {
  const { rows } = await db.pool.query('SELECT id FROM outstanding_token ORDER BY id');
  return rows.map((r) => String(r.id));
}

async function blacklistedTokenIds(db: TestDatabase): Promise<string[]> {
  const { rows } = await db.pool.query('SELECT token_id FROM blacklisted_token ORDER BY token_id');
  return rows.map((r) => String(r.token_id));
}

async function auditRow(db: TestDatabase, runId: string) {
  const { rows } = await db.pool.query('SELECT * FROM maintenance_run WHERE id = $1', [runId]);
  return rows[0];
}

async function ledgerSum(db: TestDatabase, runId: string): Promise<{ deleted: number; batches: number }> {
  const { rows } = await db.pool.query('SELECT coalesce(sum(deleted),0)::int AS deleted, count(*)::int AS batches FROM purge_batch WHERE run_id = $1', [runId]);
  return rows[0];
}

function run(w: TestWorker, params: Record<string, unknown>) {
  return startHandle(client, { job: JOB, params, taskQueue: w.taskQueue, trigger: 'test' });
}

describe('batched purge of expired tokens', () => {
  it('deletes exactly the rows older than the cutoff and their blacklist rows, boundary rows included', async () => {
    const env = await setup();
    try {
      const asOf = new Date('2026-06-01T12:00:00.000Z');
      const ms = (d: number) => new Date(asOf.getTime() + d);
      // [offset from cutoff, blacklisted, expected to be deleted]
      const cases: Array<[Date, boolean, boolean]> = [
        [ms(-365 * 86_400_000), true, true],
        [ms(-1), true, true], // one millisecond before the cutoff
        [ms(-1), false, true],
        [ms(0), true, false], // exactly at the cutoff: not expired yet (expires_at < now)
        [ms(1), false, false],
        [new Date('2026-06-01T13:59:59.999+02:00'), false, true], // 11:59:59.999Z written in another zone
        [new Date('2026-06-01T14:00:00.000+02:00'), true, false], // the cutoff itself, in another zone
        [ms(86_400_000), true, false],
      ];
      const ids = await seedTokens(env.db, cases.map(([expiresAt, blacklisted]) => ({ expiresAt, blacklisted })));
      const keep = ids.filter((_, i) => !cases[i]![2]);
      const keepBlacklisted = ids.filter((_, i) => !cases[i]![2] && cases[i]![1]);

      const handle = await run(env.worker, { asOf: asOf.toISOString(), batchSize: 2 });
      const result = (await handle.result()) as PurgeResult;

      expect(await tokenIds(env.db)).toEqual(keep);
      expect(await blacklistedTokenIds(env.db)).toEqual(keepBlacklisted);
      expect(result).toMatchObject({ status: 'completed', deleted: 4, matched: 4, children: { blacklisted_token: 2 }, cutoff: asOf.toISOString() });
      const audit = await auditRow(env.db, handle.firstExecutionRunId);
      expect(audit).toMatchObject({ status: 'completed', job: JOB, trigger: 'test', dry_run: false, deleted: '4', matched: '4', children_deleted: { blacklisted_token: 2 } });
      expect(audit.finished_at).not.toBeNull();

      // A second run finds nothing: the purge is a no-op once done.
      const again = (await (await run(env.worker, { asOf: asOf.toISOString() })).result()) as PurgeResult;
      expect(again).toMatchObject({ deleted: 0, matched: 0 });
      expect(await tokenIds(env.db)).toEqual(keep);
    } finally {
      await env.close();
    }
  });

  it('dry run reports what would go and changes nothing', async () => {
    const env = await setup();
    try {
      const cutoff = new Date(Date.now() - 60_000);
      await seedBulk(env.db, { expired: 120, valid: 80, cutoff, blacklistEvery: 7 });
      const before = await env.db.pool.query('SELECT md5(string_agg(id::text || jti || expires_at::text, \',\' ORDER BY id)) AS t FROM outstanding_token');
      const beforeBl = await blacklistedTokenIds(env.db);
      const expectedChildren = await scalar(env.db, 'SELECT count(*) FROM blacklisted_token b JOIN outstanding_token t ON t.id = b.token_id WHERE t.expires_at < $1', [cutoff]);

      const handle = await run(env.worker, { dryRun: true, asOf: cutoff.toISOString(), batchSize: 10 });
      const result = (await handle.result()) as PurgeResult;

      expect(result).toMatchObject({ dryRun: true, matched: 120, deleted: 0, batches: 0, children: { blacklisted_token: expectedChildren } });
      const after = await env.db.pool.query('SELECT md5(string_agg(id::text || jti || expires_at::text, \',\' ORDER BY id)) AS t FROM outstanding_token');
      expect(after.rows[0].t).toBe(before.rows[0].t);
      expect(await blacklistedTokenIds(env.db)).toEqual(beforeBl);
      expect(await ledgerSum(env.db, handle.firstExecutionRunId)).toEqual({ deleted: 0, batches: 0 });
      expect(await auditRow(env.db, handle.firstExecutionRunId)).toMatchObject({ dry_run: true, status: 'completed', matched: '120', deleted: '0' });
    } finally {
      await env.close();
    }
  });

  it('a batch retried after its transaction committed is not deleted or counted twice', async () => {
    const calls: Array<{ batchNo: number; attempt: number }> = [];
    const env = await setup({
      afterBatchCommit: ({ batchNo, attempt }: { batchNo: number; attempt: number }) => {
        calls.push({ batchNo, attempt });
        // The commit happened; the worker "crashes" before reporting it.
        if (batchNo === 1 && attempt === 1) throw new Error('simulated crash after commit');
      },
    });
    try {
      const cutoff = new Date(Date.now() - 60_000);
      await seedBulk(env.db, { expired: 95, valid: 30, cutoff, blacklistEvery: 5 });
      const expectedChildren = await scalar(env.db, 'SELECT count(*) FROM blacklisted_token b JOIN outstanding_token t ON t.id = b.token_id WHERE t.expires_at < $1', [cutoff]);

      const handle = await run(env.worker, { asOf: cutoff.toISOString(), batchSize: 20 });
      const result = (await handle.result()) as PurgeResult;

      expect(calls.filter((c) => c.batchNo === 1).map((c) => c.attempt)).toEqual([1, 2]);
      // 20, 20, 20, 20, 15: no row was locked, so no second pass.
      expect(result).toMatchObject({ deleted: 95, batches: 5, children: { blacklisted_token: expectedChildren } });
      expect(await ledgerSum(env.db, handle.firstExecutionRunId)).toEqual({ deleted: 95, batches: 5 });
      expect(await scalar(env.db, 'SELECT count(*) FROM outstanding_token')).toBe(30);
      expect(await auditRow(env.db, handle.firstExecutionRunId)).toMatchObject({ deleted: '95', batches: 5 });
    } finally {
      await env.close();
    }
  });

  it('continues as new to bound its history and still counts exactly, answering progress across runs', async () => {
    const env = await setup();
    try {
      const cutoff = new Date(Date.now() - 60_000);
      await seedBulk(env.db, { expired: 230, valid: 10, cutoff });
      const handle = await run(env.worker, { asOf: cutoff.toISOString(), batchSize: 10, batchesPerRun: 4 });
      const result = (await handle.result()) as PurgeResult;
      // 23 full batches and the empty one that finds the end.
      expect(result).toMatchObject({ deleted: 230, batches: 24 });
      const progress = await handle.query('progress');
      expect(progress).toMatchObject({ phase: 'done', deleted: 230, matched: 230 });

      // The chain: 24 batches at 4 per run is 6 runs, each history short.
      let runs = 0;
      for await (const wf of client.workflow.list({ query: `WorkflowId = '${handle.workflowId}'` })) {
        runs += 1;
        expect(wf.historyLength).toBeLessThan(60);
      }
      expect(runs).toBe(6);
    } finally {
      await env.close();
    }
  });

  it('a row locked by another transaction is skipped, not waited for, and purged once released', async () => {
    let release: (() => Promise<void>) | undefined;
    const env = await setup({
      afterBatchCommit: async ({ batchNo }) => {
        if (batchNo === 2 && release) await release();
      },
    });
    try {
      const cutoff = new Date(Date.now() - 60_000);
      await seedBulk(env.db, { expired: 100, valid: 10, cutoff });
      // The oldest expired token is held by a "logout" transaction when the purge reaches it.
      const holder = await env.db.pool.connect();
      await holder.query('BEGIN');
      const { rows } = await holder.query(`SELECT id FROM outstanding_token WHERE expires_at < $1 ORDER BY expires_at LIMIT 1 FOR KEY SHARE`, [cutoff]);
      release = async () => {
        await holder.query('COMMIT');
        holder.release();
        release = undefined;
      };
      const result = (await (await run(env.worker, { asOf: cutoff.toISOString(), batchSize: 10 })).result()) as PurgeResult;
      expect(result.deleted).toBe(100);
      expect(await scalar(env.db, 'SELECT count(*) FROM outstanding_token WHERE id = $1', [rows[0].id])).toBe(0);
      expect(await scalar(env.db, 'SELECT count(*) FROM outstanding_token')).toBe(10);
    } finally {
      await release?.();
      await env.close();
    }
  });

  it('cancellation finishes the current batch and records a consistent partial result', async () => {
    const env = await setup({ afterBatchCommit: () => new Promise((r) => setTimeout(r, 150)) });
    try {
      const cutoff = new Date(Date.now() - 60_000);
      await seedBulk(env.db, { expired: 500, valid: 20, cutoff, blacklistEvery: 3 });
      const handle = await run(env.worker, { asOf: cutoff.toISOString(), batchSize: 10 });
      await until(async () => ((await handle.query<{ batches: number }>('progress')).batches >= 3 ? true : undefined), 'three batches');
      await handle.cancel();
      const err = await handle.result().catch((e) => e);
      expect(err).toBeInstanceOf(WorkflowFailedError);

      const audit = await auditRow(env.db, handle.firstExecutionRunId);
      const ledger = await ledgerSum(env.db, handle.firstExecutionRunId);
      const gone = 500 - (await scalar(env.db, 'SELECT count(*) FROM outstanding_token WHERE expires_at < $1', [cutoff]));
      expect(audit.status).toBe('cancelled');
      expect(ledger.deleted).toBeGreaterThan(0);
      expect(ledger.deleted).toBeLessThan(500);
      // What the audit says, what the ledger says and what left the table agree exactly.
      expect(Number(audit.deleted)).toBe(ledger.deleted);
      expect(gone).toBe(ledger.deleted);
      expect(audit.batches).toBe(ledger.batches);
      expect(await scalar(env.db, 'SELECT count(*) FROM outstanding_token WHERE expires_at >= $1', [cutoff])).toBe(20);
    } finally {
      await env.close();
    }
  });

  it('rejects bad parameters sent straight to Temporal before touching any row', async () => {
    const env = await setup();
    try {
      const cutoff = new Date(Date.now() - 60_000);
      await seedBulk(env.db, { expired: 10, valid: 10, cutoff });
      for (const [params, field] of [
        [{ batchSize: 0 }, 'batchSize'],
        [{ batchSize: 10_000_000 }, 'batchSize'],
        [{ dryRun: 'yes' }, 'dryRun'],
        [{ batchSze: 10 }, 'params.batchSze'],
        [{ asOf: '2999-01-01T00:00:00Z' }, 'asOf'],
      ] as const) {
        const handle = await client.workflow.start('batchedPurge', { taskQueue: env.worker.taskQueue, workflowId: `bad-${field}-${Date.now()}`, args: [{ job: JOB, params }] });
        const err = await handle.result().catch((e) => e);
        expect(err).toBeInstanceOf(WorkflowFailedError);
        expect(String(err.cause?.cause?.message ?? err.cause?.message)).toContain(`${field}:`);
      }
      const unknown = await client.workflow.start('batchedPurge', { taskQueue: env.worker.taskQueue, workflowId: `bad-job-${Date.now()}`, args: [{ job: 'drop-everything' }] });
      const err = await unknown.result().catch((e) => e);
      expect(String(err.cause?.cause?.message)).toMatch(/job: unknown job "drop-everything"; allowed: purge-expired-tokens/);
      expect(await scalar(env.db, 'SELECT count(*) FROM outstanding_token')).toBe(20);
      // Each refused run is on record, failed with its reason; none deleted anything.
      const { rows } = await env.db.pool.query('SELECT job, status, deleted, error FROM maintenance_run ORDER BY started_at');
      expect(rows).toHaveLength(6);
      for (const r of rows) expect(r).toMatchObject({ status: 'failed', deleted: '0' });
      expect(rows.map((r) => r.error).join('\n')).toMatch(/batchSize:[\s\S]*dryRun:[\s\S]*params\.batchSze:[\s\S]*asOf:[\s\S]*job: unknown job "drop-everything"/);
    } finally {
      await env.close();
    }
  });
});
