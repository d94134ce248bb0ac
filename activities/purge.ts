import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Orm } from '../src/db/orm.js';
import type { Logger } from '../src/logger.js';
import { InputError } from '../src/config.js';
import { findJob } from '../src/jobs/registry.js';
import { parsePurgeParams } from '../src/jobs/params.js';
import { buildBatchSql, buildCountSql, childCounts } from '../src/jobs/sql.js';
import type { BatchResult, MatchCount, PurgeResult, ResolvedJob, RetentionRule, RunStatus } from '../src/jobs/types.js';
import type { FaultHooks } from './faults.js';

export type { FaultHooks };

export interface PurgeActivityDeps {
  orm: Orm;
  logger: Logger;
  faults?: FaultHooks;
}

export interface BatchInput {
  runId: string;
  batchNo: number;
  rule: RetentionRule;
  cutoff: string;
  batchSize: number;
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
}

function num(v: unknown): number {
  return v === null || v === undefined ? 0 : Number(v);
}

export function createPurgeActivities({ orm, logger, faults }: PurgeActivityDeps) {
  const conn = () => orm.em.getConnection();

  return {
    /** Validates the job and its parameters and returns the rule, so the run's history records what it ran. */
    async resolveJob(input: { job: string; params?: unknown }): Promise<ResolvedJob> {
      try {
        const job = findJob(input.job);
        return { job: job.name, rule: job.rule, params: parsePurgeParams(input.params) };
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
    async countMatching(input: { rule: RetentionRule; cutoff: string }): Promise<MatchCount> {
      const built = buildCountSql(input.rule);
      const [row] = await conn().execute<Record<string, unknown>[]>(built.sql, [input.cutoff]);
      return { matched: num(row?.matched), children: childCounts(row ?? {}, built.children) };
    },

    /**
     * Deletes one batch in one short transaction and records it in the ledger in that same transaction.
     * If the ledger already has this (run, batch), an earlier attempt committed: report its counts, delete nothing.
     */
    async purgeBatch(input: BatchInput): Promise<BatchResult> {
      const attempt = Context.current().info.attempt;
      const built = buildBatchSql(input.rule);
      const result = await orm.em.getConnection().transactional(async (trx) => {
        const c = conn();
        const [done] = await c.execute<Record<string, unknown>[]>(
          'SELECT deleted, children, duration_ms FROM purge_batch WHERE run_id = ? AND batch_no = ?',
          [input.runId, input.batchNo],
          'all',
          trx,
        );
        if (done) {
          return { deleted: num(done.deleted), children: done.children as Record<string, number>, durationMs: num(done.duration_ms), fromLedger: true };
        }
        const started = performance.now();
        const [row] = await c.execute<Record<string, unknown>[]>(built.sql, [input.cutoff, input.batchSize], 'all', trx);
        const deleted = num(row?.deleted);
        const children = childCounts(row ?? {}, built.children);
        const durationMs = Math.round(performance.now() - started);
        // A concurrent attempt of the same batch fails here on the primary key and rolls its deletes back.
        await c.execute(
          'INSERT INTO purge_batch (run_id, batch_no, deleted, children, duration_ms) VALUES (?, ?, ?, ?::jsonb, ?)',
          [input.runId, input.batchNo, deleted, JSON.stringify(children), durationMs],
          'run',
          trx,
        );
        return { deleted, children, durationMs, fromLedger: false };
      });
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
      const deleted = num(sums?.deleted);
      const children = Object.fromEntries(Object.entries((sums?.children ?? {}) as Record<string, unknown>).map(([k, v]) => [k, num(v)]));
      const startedAt = run ? new Date(run.started_at as string).getTime() : Date.parse(input.finishedAt);
      const durationMs = Math.max(0, Date.parse(input.finishedAt) - startedAt);
      const rowsPerSecond = input.dryRun || durationMs === 0 ? null : Math.round((deleted / durationMs) * 1000 * 10) / 10;
      await c.execute(
        `UPDATE maintenance_run SET status = ?, matched = ?, deleted = ?, children_deleted = ?::jsonb, batches = ?,
                finished_at = ?, duration_ms = ?, rows_per_second = ?, error = ? WHERE id = ?`,
        [input.status, input.matched, deleted, JSON.stringify(children), num(sums?.batches), input.finishedAt, durationMs, rowsPerSecond, input.error ?? null, input.runId],
      );
      return { runId: input.runId, status: input.status, matched: input.matched, deleted, children, batches: num(sums?.batches), durationMs, rowsPerSecond };
    },
  };
}

export type PurgeActivities = ReturnType<typeof createPurgeActivities>;
