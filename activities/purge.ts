import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Orm } from '../src/db/orm.js';
import type { Logger } from '../src/logger.js';
import { InputError } from '../src/config.js';
import { applyJobParams, findJob } from '../src/jobs/registry.js';
import { checkAgainstSchema } from '../src/jobs/schema-check.js';
import { parsePurgeParams } from '../src/jobs/params.js';
import { buildBatchSql, buildCountSql, childCounts } from '../src/jobs/sql.js';
import type { BatchResult, MatchCount, PurgeResult, ResolvedJob, RetentionRule, RunStatus } from '../src/jobs/types.js';
import type { FaultHooks } from './faults.js';
import type { JobMetrics } from '../src/metrics/metrics.js';

export type { FaultHooks };

export interface PurgeActivityDeps {
  orm: Orm;
  logger: Logger;
  faults?: FaultHooks;
  metrics?: JobMetrics;
}

export interface BatchInput {
  runId: string;
  batchNo: number;
  rule: RetentionRule;
  cutoff: string;
  batchSize: number;
  /** The run's reference time, written by update steps that record when (e.g. revoked_at). */
  runTime?: string;
  step?: number;
  /** Keyset start: the newest timestamp the previous batch of this step reached. */
  after?: string | null;
}

export interface StartRunInput {
  runId: string;
  workflowId: string;
  job: string;
  parameters: Record<string, unknown>;
  trigger: string;
  dryRun: boolean;
  cutoff: string;
  startedAt: string;
}

export interface FinishRunInput {
  runId: string;
  status: RunStatus;
  dryRun: boolean;
  matched: number | null;
  /** Dry runs have no ledger; their would-be counts are recorded as matched. */
  finishedAt: string;
  error?: string;
  /** Names of the steps of a multi-step job, to report counts per step. */
  stepNames?: string[];
}

function withUpdated(r: BatchResult, updated: number, isUpdate: boolean): BatchResult {
  return isUpdate ? { ...r, updated } : r;
}

function addCounts(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = (out[k] ?? 0) + v;
  return out;
}

function num(v: unknown): number {
  return v === null || v === undefined ? 0 : Number(v);
}

export function createPurgeActivities({ orm, logger, faults, metrics }: PurgeActivityDeps) {
  const conn = () => orm.em.getConnection();

  return {
    /** Validates the job and its parameters and returns the rule, so the run's history records what it ran. */
    async resolveJob(input: { job: string; params?: unknown }): Promise<ResolvedJob> {
      try {
        const job = findJob(input.job);
        const params = parsePurgeParams({ ...(job.defaultBatchSize ? { batchSize: job.defaultBatchSize } : {}), ...(input.params as object | undefined) });
        const steps = applyJobParams(job, params);
        await checkAgainstSchema(conn(), job.name, steps);
        return { job: job.name, steps, params };
      } catch (err) {
        if (err instanceof InputError) throw ApplicationFailure.nonRetryable(err.message, 'InvalidInput');
        throw err;
      }
    },

    /** Creates the audit record; idempotent so a retried start does not duplicate it. */
    async startRun(input: StartRunInput): Promise<void> {
      await conn().execute(
        `INSERT INTO maintenance_run (id, workflow_id, job, parameters, trigger, dry_run, status, cutoff, started_at)
         VALUES (?, ?, ?, ?::jsonb, ?, ?, 'running', ?, ?) ON CONFLICT (id) DO NOTHING`,
        [input.runId, input.workflowId, input.job, JSON.stringify(input.parameters), input.trigger, input.dryRun, input.cutoff, input.startedAt],
      );
    },

    /** Counts matching rows and their dependents: the dry run's answer and the progress bar's total. */
    async countMatching(input: { rule: RetentionRule; cutoff: string; more?: Array<{ rule: RetentionRule; cutoff: string }> }): Promise<MatchCount> {
      const all = [{ rule: input.rule, cutoff: input.cutoff }, ...(input.more ?? [])];
      const perStep: number[] = [];
      let children: Record<string, number> = {};
      for (const { rule, cutoff } of all) {
        const built = buildCountSql(rule);
        const [row] = await conn().execute<Record<string, unknown>[]>(built.sql, built.bind({ cutoff }));
        perStep.push(num(row?.matched));
        children = addCounts(children, childCounts(row ?? {}, built.children));
      }
      const matched = perStep.reduce((a, b) => a + b, 0);
      return input.more ? { matched, children, perStep } : { matched, children };
    },

    /**
     * Deletes one batch in one short transaction and records it in the ledger in that same transaction.
     * If the ledger already has this (run, batch), an earlier attempt committed: report its counts, delete nothing.
     */
    async purgeBatch(input: BatchInput): Promise<BatchResult> {
      const attempt = Context.current().info.attempt;
      const built = buildBatchSql(input.rule, { keyset: Boolean(input.after) });
      const isUpdate = input.rule.action?.type === 'update';
      const result = await orm.em.getConnection().transactional(async (trx) => {
        const c = conn();
        const [done] = await c.execute<Record<string, unknown>[]>(
          'SELECT deleted, updated, children, duration_ms, last_ts FROM purge_batch WHERE run_id = ? AND batch_no = ?',
          [input.runId, input.batchNo],
          'all',
          trx,
        );
        if (done) {
          const lastTs = done.last_ts ? new Date(done.last_ts as string).toISOString() : null;
          return withUpdated({ deleted: num(done.deleted), children: done.children as Record<string, number>, durationMs: num(done.duration_ms), fromLedger: true, lastTs }, num(done.updated), isUpdate);
        }
        const started = performance.now();
        const [row] = await c.execute<Record<string, unknown>[]>(built.sql, built.bind({ cutoff: input.cutoff, limit: input.batchSize, runTime: input.runTime, after: input.after ?? undefined }), 'all', trx);
        const lastTs = row?.last_ts ? new Date(row.last_ts as string).toISOString() : null;
        const affected = num(row?.affected);
        const deleted = isUpdate ? 0 : affected;
        const updated = isUpdate ? affected : 0;
        const children = childCounts(row ?? {}, built.children);
        const durationMs = Math.round(performance.now() - started);
        // A concurrent attempt of the same batch fails here on the primary key and rolls its changes back.
        await c.execute(
          'INSERT INTO purge_batch (run_id, batch_no, step, deleted, updated, children, duration_ms, last_ts) VALUES (?, ?, ?, ?, ?, ?::jsonb, ?, ?)',
          [input.runId, input.batchNo, input.step ?? 0, deleted, updated, JSON.stringify(children), durationMs, lastTs],
          'run',
          trx,
        );
        return withUpdated({ deleted, children, durationMs, fromLedger: false, lastTs }, updated, isUpdate);
      });
      if (!result.fromLedger) metrics?.batchCommitted(input, result);
      logger.debug({ runId: input.runId, batchNo: input.batchNo, attempt, ...result }, 'batch committed');
      await faults?.afterBatchCommit?.({ runId: input.runId, batchNo: input.batchNo, attempt });
      return result;
    },

    /** Closes the audit record with counts summed from the ledger, the one source of truth. */
    async finishRun(input: FinishRunInput): Promise<Omit<PurgeResult, 'job' | 'dryRun' | 'cutoff'>> {
      const c = conn();
      const [sums] = await c.execute<Record<string, unknown>[]>(
        `SELECT count(*)::int AS batches, coalesce(sum(deleted), 0)::bigint AS deleted,
                coalesce((SELECT jsonb_object_agg(k, v) FROM (SELECT key AS k, sum(value::bigint) AS v
                  FROM purge_batch, jsonb_each_text(children) WHERE run_id = ? GROUP BY key) s), '{}'::jsonb) AS children
           FROM purge_batch WHERE run_id = ?`,
        [input.runId, input.runId],
      );
      const [run] = await c.execute<Record<string, unknown>[]>('SELECT started_at FROM maintenance_run WHERE id = ?', [input.runId]);
      const perStep = await c.execute<Record<string, unknown>[]>(
        'SELECT step, sum(deleted)::bigint AS deleted, sum(updated)::bigint AS updated FROM purge_batch WHERE run_id = ? GROUP BY step',
        [input.runId],
      );
      const updated = perStep.reduce((a, r) => a + num(r.updated), 0);
      const steps = input.stepNames
        ? Object.fromEntries(input.stepNames.map((name, i) => { const r = perStep.find((p) => num(p.step) === i); return [name, num(r?.deleted) + num(r?.updated)]; }))
        : undefined;
      const deleted = num(sums?.deleted);
      const children = Object.fromEntries(Object.entries((sums?.children ?? {}) as Record<string, unknown>).map(([k, v]) => [k, num(v)]));
      const startedAt = run ? new Date(run.started_at as string).getTime() : Date.parse(input.finishedAt);
      const durationMs = Math.max(0, Date.parse(input.finishedAt) - startedAt);
      const rowsPerSecond = input.dryRun || durationMs === 0 ? null : Math.round(((deleted + updated) / durationMs) * 1000 * 10) / 10;
      await c.execute(
        `UPDATE maintenance_run SET status = ?, matched = ?, deleted = ?, updated = ?, children_deleted = ?::jsonb, steps = ?::jsonb,
                batches = ?, finished_at = ?, duration_ms = ?, rows_per_second = ?, error = ? WHERE id = ?`,
        [input.status, input.matched, deleted, updated, JSON.stringify(children), steps ? JSON.stringify(steps) : null, num(sums?.batches), input.finishedAt, durationMs, rowsPerSecond, input.error ?? null, input.runId],
      );
      return {
        runId: input.runId,
        status: input.status,
        matched: input.matched,
        deleted,
        ...(updated || steps ? { updated } : {}),
        children,
        ...(steps ? { steps } : {}),
        batches: num(sums?.batches),
        durationMs,
        rowsPerSecond,
      };
    },
  };
}

export type PurgeActivities = ReturnType<typeof createPurgeActivities>;
