import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import { type Orm, dbFromOrm, withSession } from '../../src/orm/index.js';
import type { Logger } from '../../src/logger.js';
import { InputError } from '../../src/kernel/errors.js';
import { applyJobParams } from '../../src/purge/rules.js';
import { checkedAsync } from '../../src/temporal/failures.js';
import { checkAgainstSchema } from './schema-check.js';
import { readForeignKeyCatalog } from '../../src/db/catalog.js';
import { parsePurgeParams } from '../../src/purge/params.js';
import { createHash } from 'node:crypto';
import { buildCascadeOwnersSql, buildCountSql, childCounts, type Walk } from '../../src/purge/sql.js';
import { runWalkBatch, type WalkBatchInput } from './batch.js';
import { addCounts, toNumber } from '../../src/kernel/counts.js';
import { brakeReason, checksAnything, NO_BRAKES, recheckAfterMs, sleepAfterBatchMs, type BrakeSettings } from '../../src/purge/brake.js';
import { readPressure } from './brake.js';

/** Longest one lane run waits on the impact budget before handing back to the workflow (well inside its timeout). */
const THROTTLE_HANDBACK_MS = 8_000;
import { createLegacyPurgeActivities } from '../../src/purge/legacy-v1/activity.js';
import { estimatedMatches, explainFirstBatch, keyOf, planStep, rowAddressOf } from './plan.js';
import { advanceLane, walkOf } from '../../src/purge/lane.js';
import type { BatchResult, PurgeJobs, LaneState, MatchCount, PurgeResult, ResolvedJob, RetentionRule, StepPlanSummary } from '../../src/purge/types.js';
import type { FaultHooks } from '../faults.js';
import { executionRunId } from '../execution.js';
import type { JobMetrics } from '../../src/metrics/metrics.js';
import { type Db } from '../../src/db/query.js';
import * as runRecord from '../../src/db/run-record.js';
import type { FinishRunInput, RecordedRun, StartRunInput } from '../../src/db/run-record.js';


/** How many owners a dry run names. */
const OWNERS_LISTED = 100;

export interface PurgeActivityDeps {
  orm: Orm;
  /** The purges the worker runs: a run's rules are resolved here by its job's name, never taken from its input. */
  purges: PurgeJobs;
  logger: Logger;
  faults?: FaultHooks;
  metrics?: JobMetrics;
  /** Most lanes one purge may use (MAINT_MAX_PARALLEL). */
  maxParallel: number;
  /** The impact budget lanes keep between batches (MAINT_BRAKE_*); none by default. */
  brakes?: BrakeSettings;
}

export type { WalkBatchInput } from './batch.js';

/** A run of one lane's batches (see `purgeLaneRun`). */
export interface LaneRunInput extends Omit<WalkBatchInput, 'batchNo' | 'size' | 'walk' | 'address'> {
  firstBatchNo: number;
  maxBatches: number;
  /** Stop starting batches after this long. */
  budgetMs: number;
  strategy: Walk['strategy'];
  adaptive: boolean;
  targetMs: number;
  /** Where the lane stands. */
  state: LaneState;
}

export interface LaneRunResult {
  lane: LaneState;
  batches: number;
  deleted: number;
  updated: number;
  children: Record<string, number>;
  leftLocked: number;
  durationMs: number;
  /** Time this run spent waiting on the impact budget, and the last reason. */
  throttledMs?: number;
  throttled?: string;
}

/** Why the planned steps of a job no longer match what its run recorded (or that there is no such run). */
function continuationError(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(`input.carried: ${message}; a purge's state is only accepted from its own continue-as-new`, 'ForgedState');
}

/** A stable digest of a job's resolved steps, so a continued run can prove it runs the rules its run started with. */
function fingerprintOf(steps: RetentionRule[]): string {
  return createHash('sha256').update(JSON.stringify(steps)).digest('hex');
}

export function createPurgeActivities({ orm, purges, logger, faults, metrics, maxParallel, brakes = NO_BRAKES }: PurgeActivityDeps) {
  const db = dbFromOrm(orm);

  /**
   * Waits while the database is over the impact budget (src/purge/brake.ts), heartbeating the reason. False when this
   * lane run should return to the workflow: still throttled after THROTTLE_HANDBACK_MS.
   */
  async function withinBudget(ctx: Context, out: LaneRunResult, now: { throttled: string | null }): Promise<boolean> {
    if (!checksAnything(brakes)) return true;
    const since = performance.now();
    for (let waiting = false; ; waiting = true) {
      const reason = brakeReason(await readPressure(db), brakes);
      const waited = performance.now() - since;
      if (!reason || waited >= THROTTLE_HANDBACK_MS) {
        if (waiting) out.throttledMs = Math.round((out.throttledMs ?? 0) + waited);
        now.throttled = reason;
        if (!reason) ctx.heartbeat({ throttled: null });
        return !reason;
      }
      if (!now.throttled) logger.info({ reason }, 'purge throttled');
      now.throttled = reason;
      out.throttled = reason;
      ctx.heartbeat({ throttled: reason });
      await ctx.sleep(recheckAfterMs(waited));
    }
  }

  /** One batch (see `runWalkBatch`), on a connection of its own, with its metrics, log line and test hooks. */
  async function walkBatch(input: WalkBatchInput, attempt: number): Promise<BatchResult> {
    const { result, phases } = await withSession(orm, (session) => runWalkBatch(session, input));
    if (!result.fromLedger) metrics?.batchCommitted(input, { ...result, phases });
    logger.debug({ runId: input.runId, batchNo: input.batchNo, lane: input.lane, attempt, ...result, phases }, 'batch committed');
    await faults?.afterBatchCommit?.({ runId: input.runId, batchNo: input.batchNo, attempt });
    return result;
  }

  /**
   * The dry run's word on owners: each matching row that owns what the cascade deletes (a user's OAuth
   * applications), named, with the rows of others that would go with it.
   */
  async function ownerNotes(rule: RetentionRule, cutoff: string): Promise<string[]> {
    const built = buildCascadeOwnersSql(rule, OWNERS_LISTED);
    if (!built) return [];
    const o = rule.cascade!.owners!;
    const rows = await db.query(built.sql, built.bind(cutoff));
    const notes = rows.slice(0, OWNERS_LISTED).map((r) => {
      const counts = built.labels.map((t, i) => ({ t, n: toNumber(r[`d${i}`]) }));
      const total = counts.reduce((a, c) => a + c.n, 0);
      const detail = counts.filter((c) => c.n > 0).map((c) => `${c.t} ${c.n}`).join(', ');
      return `${rule.table} ${o.label} ${String(r.owner)} owns ${toNumber(r.owned)} ${o.table} row(s); ${total} row(s) of other users on them would go too${detail ? ` (${detail})` : ''}`;
    });
    if (rows.length > OWNERS_LISTED) notes.push(`more owners of ${o.table} rows than the ${OWNERS_LISTED} listed`);
    return notes;
  }

  /**
   * Why a start of `input.job` is refused, naming the run that holds the job; undefined when the holder's workflow
   * is over without having closed its record (terminated, timed out, reset), whose row is closed so, and the start may go.
   */
  async function holdingRun(input: StartRunInput): Promise<string | undefined> {
    const holder = await runRecord.holderOf(db, input.job);
    if (!holder) return undefined;
    let status = 'NOT_FOUND';
    // The same workflow again (a reset or retried execution) replaces its earlier execution.
    if (holder.workflow_id !== input.workflowId) {
      try {
        status = (await Context.current().client.workflow.getHandle(holder.workflow_id).describe()).status.name;
      } catch (err) {
        if ((err as Error).name !== 'WorkflowNotFoundError') throw err;
      }
      if (status === 'RUNNING') {
        return `${input.job} is already running: workflow ${holder.workflow_id} (run ${holder.id}); one purge of a job runs at a time: wait for it, or stop it with maint cancel ${input.job}`;
      }
    } else status = 'REPLACED';
    await runRecord.abandonRun(db, holder.id, `its workflow ended without closing this record (${status.toLowerCase()})`, new Date().toISOString());
    return undefined;
  }

  return {
    ...createLegacyPurgeActivities({ db, logger, faults, metrics }),

    /** Validates the job and its parameters and returns the rule, so the run's history records what it ran. */
    async resolveJob(input: { job: string; params?: unknown }): Promise<ResolvedJob> {
      return checkedAsync(async () => {
        const job = purges.purge(input.job);
        const params = parsePurgeParams({ ...(job.defaultBatchSize ? { batchSize: job.defaultBatchSize } : {}), ...(input.params as object | undefined) });
        // Steps built from the database's foreign keys are built (or refused) before anything is touched.
        const catalog = job.stepsFromCatalog ? await readForeignKeyCatalog(db) : undefined;
        const steps = applyJobParams(job, params, catalog);
        await checkAgainstSchema(db, job.name, steps);
        // Every step deletes by key: a table without a usable one is refused before anything runs.
        for (const step of steps) await keyOf(db, step);
        if (params.parallel !== undefined && params.parallel > maxParallel) {
          throw new InputError('parallel', `${params.parallel} is not allowed on this worker; expected an integer from 1 to ${maxParallel} (MAINT_MAX_PARALLEL)`);
        }
        return { job: job.name, steps, params, fingerprint: fingerprintOf(steps) };
      });
    },

    /**
     * Creates the audit record; idempotent so a retried start does not duplicate it. A real run holds its job while
     * it runs: a second one, however it was started, is refused naming the running workflow, and recorded so.
     */
    async startRun(input: StartRunInput): Promise<void> {
      const now = Date.now();
      // Wherever they come from, a reference time in the future or a cutoff after it would delete live rows.
      if (input.runTime && Date.parse(input.runTime) > now + 5_000) throw ApplicationFailure.nonRetryable(`runTime: ${input.runTime} is in the future; refused`, 'InvalidInput');
      for (const c of input.cutoffs ?? []) {
        if (input.runTime && Date.parse(c) > Date.parse(input.runTime)) throw ApplicationFailure.nonRetryable(`cutoff: ${c} is after the run's reference time ${input.runTime}; refused`, 'InvalidInput');
      }
      const record = { ...input, executionRunId: executionRunId(), exclusive: !input.dryRun };
      for (let tries = 0; ; tries++) {
        try {
          return await runRecord.startRun(db, record);
        } catch (err) {
          if ((err as { constraint?: string }).constraint !== 'maintenance_run_one_running_idx' || tries > 2) throw err;
        }
        const refusal = await holdingRun(input);
        if (refusal) {
          await runRecord.refuseRun(db, { ...record, error: refusal, at: new Date().toISOString() });
          throw ApplicationFailure.nonRetryable(refusal, 'AlreadyRunning');
        }
      }
    },

    /**
     * A continued run's check: the run it continues must be recorded, still running, for the same job, with the
     * same rules; its reference time and cutoffs are read from that record. Anything else is a forged state.
     */
    async loadRun(input: { runId: string; job: string; fingerprint: string; continuedFrom?: string }): Promise<RecordedRun> {
      const row = await runRecord.loadRun(db, { runId: input.runId, executionRunId: executionRunId(), continuedFrom: input.continuedFrom });
      if (!row || !row.run_time || !Array.isArray(row.cutoffs)) throw continuationError(`no purge run ${input.runId} was recorded`);
      if (row.job !== input.job) throw continuationError(`run ${input.runId} is a run of ${String(row.job)}, not ${input.job}`);
      if (row.status !== 'running') throw continuationError(`run ${input.runId} is ${String(row.status)}`);
      if (row.fingerprint !== input.fingerprint) throw ApplicationFailure.nonRetryable(`the rules of ${input.job} changed while its run was in progress; start a new run`, 'RulesChanged');
      const runTime = new Date(row.run_time).toISOString();
      const cutoffs = (row.cutoffs as string[]).map((c) => new Date(c).toISOString());
      if (Date.parse(runTime) > Date.now() + 5_000 || cutoffs.some((c) => Date.parse(c) > Date.parse(runTime))) {
        throw continuationError(`run ${input.runId} has a reference time or cutoff in the future`);
      }
      return { runTime, cutoffs, startedAtMs: new Date(row.started_at).getTime() };
    },

    /** Records a run refused before it touched anything (a bad input, a missing table, a forged state), so the audit says so. */
    async refuseRun(input: { runId: string; workflowId: string; job: string; trigger: string; error: string; at: string; dryRun?: boolean; status?: 'failed' | 'cancelled' }): Promise<void> {
      await runRecord.refuseRun(db, { ...input, executionRunId: executionRunId() });
    },

    /**
     * The planner's estimate of the rows the steps match, for the progress bar of a real run: counting them
     * exactly would read the whole table once more before the first batch. The run's `matched` is exact at
     * its end (every matching row it met was deleted, updated or left locked).
     */
    async estimateMatching(input: { steps: Array<{ rule: RetentionRule; cutoff: string }> }): Promise<number> {
      let total = 0;
      for (const { rule, cutoff } of input.steps) total += await estimatedMatches(db, rule, cutoff);
      return total;
    },

    /** How a step will walk its table, from the live catalog; a dry run also gets the EXPLAIN of one batch. */
    async planPurgeStep(input: { rule: RetentionRule; cutoff: string; runTime: string; parallel?: number; batchSize: number; adaptive: boolean; explain: boolean }): Promise<StepPlanSummary> {
      return checkedAsync(async () => {
        const plan = await planStep(db, input.rule, { cutoff: input.cutoff, parallel: input.parallel, maxParallel, batchSize: input.batchSize, adaptive: input.adaptive });
        const explain = input.explain ? await explainFirstBatch(db, input.rule, plan, input.cutoff, input.runTime) : undefined;
        return { step: input.rule.name ?? input.rule.table, ...plan, ...(explain ? { explain } : {}) };
      });
    },

    /**
     * A run of one lane's batches: up to `maxBatches` of them, for about `budgetMs`, each its own short
     * transaction (see `walkBatch`), the lane moved on after each by the same pure rule the workflow uses. One
     * activity carries a second or so of work, so Temporal's round trip is paid per second, not per batch. A retry
     * replays the batches already committed from the ledger (same numbers, same positions) and goes on from
     * there. Heartbeats while it runs, so a run whose worker died is retried within seconds.
     */
    async purgeLaneRun(input: LaneRunInput): Promise<LaneRunResult> {
      const ctx = Context.current();
      // The cutoff comes from the run's record; still, a cutoff in the future is never run.
      if (Date.parse(input.cutoff) > Date.now() + 5_000) throw ApplicationFailure.nonRetryable(`cutoff: ${input.cutoff} is in the future; refused`, 'InvalidInput');
      // This execution's ledger (a reset or retried execution counts its own batches, see recordOf).
      const { id: recordId } = await runRecord.recordOf(db, { runId: input.runId, executionRunId: executionRunId() });
      // Read at every run, not planned: a table may have been partitioned since the plan.
      const address = await rowAddressOf(db, input.rule.table);
      // The heartbeat carries why the lane waits, if it does: the CLI's progress and the Web UI show it.
      const now: { throttled: string | null } = { throttled: null };
      const beat = setInterval(() => ctx.heartbeat(now.throttled ? { throttled: now.throttled } : undefined), 1_000);
      const started = performance.now();
      const out: LaneRunResult = { lane: input.state, batches: 0, deleted: 0, updated: 0, children: {}, leftLocked: 0, durationMs: 0 };
      // A cancel of the run arrives with a heartbeat's answer: no batch starts after it (the one running finishes or
      // rolls back in its own transaction), and the workflow, which waits for this, closes the record from the ledger.
      const stopIfCancelled = () => {
        if (ctx.cancellationSignal.aborted) throw new CancelledFailure(`lane run stopped after ${out.batches} batches: the purge was cancelled`);
      };
      try {
        while (!out.lane.done && out.batches < input.maxBatches && (out.batches === 0 || performance.now() - started < input.budgetMs)) {
          stopIfCancelled();
          // Over the impact budget: wait here (heartbeating why), and after a while hand back to the workflow
          // rather than outlive this activity's timeout; the workflow starts the lane's next run, which waits again.
          if (!(await withinBudget(ctx, out, now))) return out;
          const batch = { ...input, runId: recordId, batchNo: input.firstBatchNo + out.batches, size: out.lane.size, walk: walkOf(out.lane, input.strategy), address };
          let res: BatchResult;
          try {
            res = await walkBatch(batch, ctx.info.attempt);
          } catch (err) {
            // A batch that failed once the cancel came is not retried: the run stops.
            stopIfCancelled();
            throw err;
          }
          ctx.heartbeat();
          const moved = advanceLane(out.lane, res, input, input.targetMs);
          out.lane = moved.lane;
          out.leftLocked += moved.leftLocked;
          out.batches += 1;
          out.deleted += res.deleted;
          out.updated += res.updated ?? 0;
          out.children = addCounts(out.children, res.children);
          out.durationMs += res.durationMs;
          const pause = sleepAfterBatchMs(res.durationMs, brakes);
          if (pause > 0 && !out.lane.done) await ctx.sleep(pause);
        }
        // Asked to stop meanwhile: say so, the run ends (its counts are the ledger's).
        stopIfCancelled();
        return out;
      } finally {
        clearInterval(beat);
      }
    },

    /** Counts matching rows and their dependents: the dry run's answer and the progress bar's total. */
    async countMatching(input: { rule: RetentionRule; cutoff: string; more?: Array<{ rule: RetentionRule; cutoff: string }> }): Promise<MatchCount> {
      const all = [{ rule: input.rule, cutoff: input.cutoff }, ...(input.more ?? [])];
      const perStep: number[] = [];
      let children: Record<string, number> = {};
      const notes: string[] = [];
      for (const { rule, cutoff } of all) {
        const built = buildCountSql(rule);
        const [row] = await db.query(built.sql, built.bind({ cutoff }));
        perStep.push(toNumber(row?.matched));
        children = addCounts(children, childCounts(row ?? {}, built.children));
        notes.push(...(await ownerNotes(rule, cutoff)));
      }
      const matched = perStep.reduce((a, b) => a + b, 0);
      return { matched, children, ...(input.more ? { perStep } : {}), ...(notes.length ? { notes } : {}) };
    },

    /** Closes the audit record with counts summed from the ledger, the one source of truth. */
    async finishRun(input: FinishRunInput): Promise<Omit<PurgeResult, 'job' | 'dryRun' | 'cutoff'>> {
      return runRecord.finishRun(db, { ...input, executionRunId: executionRunId() });
    },
  };
}
