import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import { type Orm, dbFromOrm, withSession } from '../../src/orm/index.js';
import type { Logger } from '../../src/logger.js';
import { InputError } from '../../src/kernel/errors.js';
import { checkedAsync } from '../../src/temporal/failures.js';
import { parsePurgeParams } from '../../src/purge/params.js';
import { createHash } from 'node:crypto';
import { buildCascadeOwnersSql, buildCountSql, childCounts, type Walk } from '../../src/purge/sql.js';
import { runWalkBatch, type WalkBatchInput } from './batch.js';
import { addCounts, toNumber } from '../../src/kernel/counts.js';
import { blockingBackoffMs, brakeFor, checksAnything, criticalFor, criticalLasted, NO_BRAKES, recheckAfterMs, sizeAfterBlocking, sleepAfterBatchMs, type BrakeSettings, type Pressure, type ThrottleKind } from '../../src/purge/brake.js';
import { resolveBudget } from '../../src/purge/budget.js';
import { askThrottleQuery, Probe, readPressure, sessionsBlockedByMe } from './brake.js';
import { batchCap, type StepShare } from '../../src/purge/breakers.js';

/**
 * Longest one lane run waits on the impact budget before handing back to the workflow (well inside its timeout): the
 * workflow then shows the reason in its progress and current details, and takes an operator's change.
 */
const THROTTLE_HANDBACK_MS = 3_000;
/** The least a batch shrinks to when it blocks the application. */
const BLOCKED_MIN_SIZE = 10;
import { createLegacyPurgeActivities } from '../../src/purge/legacy-v1/activity.js';
import { createAftermathActivities } from './aftermath.js';
import { walCompressionFor } from './wal-compression.js';
import type { WalCompressionMode } from '../../src/purge/wal-compression.js';
import { estimatedMatches, explainFirstBatch, planStep, rowAddressOf, stepShare } from './plan.js';
import { resolveSteps } from './resolve.js';
import { databaseErrorMessage } from '../../src/db/errors.js';
import { advanceLane, walkOf } from '../../src/purge/lane.js';
import type { BatchResult, PurgeJobs, LaneState, MatchCount, PurgeResult, ResolvedJob, RetentionRule, StepPlanSummary } from '../../src/purge/types.js';
import type { FaultHooks } from '../faults.js';
import { executionRunId } from '../execution.js';
import type { JobMetrics } from '../../src/metrics/metrics.js';
import { type Db } from '../../src/db/query.js';
import * as runRecord from '../../src/db/run-record.js';
import type { FinishRunInput, RecordedRun, StartRunInput } from '../../src/db/run-record.js';
import type { ScheduledStart } from '../../src/temporal/schedule-origin.js';


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
  /** The impact budget lanes keep between batches (MAINT_BRAKE_*): the deployment's limits of every run's budget; none by default. */
  brakes?: BrakeSettings;
  /** MAINT_BRAKE_THROTTLE_QUERY, checked: lanes wait while it returns true. */
  throttleQuery?: string;
  /** MAINT_WAL_COMPRESSION: batches compress their full-page images where the role may (`auto`, the default). */
  walCompression?: WalCompressionMode;
}

export type { WalkBatchInput } from './batch.js';

/** A run of one lane's batches (see `purgeLaneRun`). */
export interface LaneRunInput extends Omit<WalkBatchInput, 'batchNo' | 'size' | 'walk' | 'address' | 'walCompression'> {
  firstBatchNo: number;
  maxBatches: number;
  /** Stop starting batches after this long. */
  budgetMs: number;
  strategy: Walk['strategy'];
  adaptive: boolean;
  targetMs: number;
  /** Where the lane stands. */
  state: LaneState;
  /** The run's impact budget (absent in histories from before budgets: the worker's MAINT_BRAKE_*). */
  budget?: BrakeSettings;
  /** The size a lane shrunk by the blocking brake grows back to (the planned or fixed size). */
  plannedSize?: number;
  /** Since when (epoch ms) a critical value lasts, as the lane's previous run left it. */
  criticalSinceMs?: number | null;
  /** Since when (epoch ms) the lane has been throttled, as its previous run left it. */
  throttledSinceMs?: number | null;
  /** Rows this lane run may change, its share of the run's row cap (maxRows); none: no cap. */
  maxRows?: number;
  /** No batch starts after this time (epoch ms): the run's time limit (maxDurationSeconds). */
  stopAtMs?: number;
}

export interface LaneRunResult {
  lane: LaneState;
  batches: number;
  deleted: number;
  updated: number;
  children: Record<string, number>;
  leftLocked: number;
  durationMs: number;
  /** Time this run spent waiting on the impact budget, and why it waits as it ends (absent: it does not). */
  throttledMs?: number;
  throttled?: string | null;
  throttledKind?: ThrottleKind | null;
  throttledSinceMs?: number | null;
  /** Time waited, by reason (the duty cycle's sleep as `sleep`). */
  throttledByKind?: Partial<Record<ThrottleKind, number>>;
  /** A critical value lasted long enough: the run should end, partial, with this reason. */
  critical?: string;
  /** Since when (epoch ms) a critical value lasts as the run ends; null: none. */
  criticalSinceMs?: number | null;
  /** It stopped because the run's time limit passed (stopAtMs). */
  timeUp?: boolean;
}

/** What a lane heartbeats and reports of its throttling now. */
interface ThrottleNow {
  throttled: string | null;
  kind: ThrottleKind | null;
  sinceMs: number | null;
}

/** Why the planned steps of a job no longer match what its run recorded (or that there is no such run). */
function continuationError(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(`input.carried: ${message}; a purge's state is only accepted from its own continue-as-new`, 'ForgedState');
}

/** A stable digest of a job's resolved steps, so a continued run can prove it runs the rules its run started with. */
function fingerprintOf(steps: RetentionRule[]): string {
  return createHash('sha256').update(JSON.stringify(steps)).digest('hex');
}

export function createPurgeActivities({ orm, purges, logger, faults, metrics, maxParallel, brakes = NO_BRAKES, throttleQuery, walCompression = 'auto' }: PurgeActivityDeps) {
  const db = dbFromOrm(orm);
  const probe = new Probe();

  /** What the database reports now, with the probe and the throttle query when the budget asks for them. */
  async function pressureNow(budget: BrakeSettings): Promise<Pressure> {
    const p = await readPressure(db);
    if (budget.maxProbeFactor) p.probe = await probe.measure(db);
    if (throttleQuery) p.throttleQuery = await askThrottleQuery(db, throttleQuery);
    return p;
  }

  /** Time a lane waited for `kind`: in its result (the workflow's progress) and in /metrics, as it goes. */
  function account(runId: string, out: LaneRunResult, kind: ThrottleKind, ms: number): void {
    if (ms <= 0) return;
    out.throttledByKind = { ...out.throttledByKind, [kind]: Math.round((out.throttledByKind?.[kind] ?? 0) + ms) };
    if (kind !== 'sleep') out.throttledMs = Math.round((out.throttledMs ?? 0) + ms);
    metrics?.throttled?.(runId, kind, ms / 1000);
  }

  /** Sleeps `ms` for `kind`, saying why in the heartbeat, and counts it. */
  async function throttledSleep(ctx: Context, runId: string, out: LaneRunResult, now: ThrottleNow, kind: ThrottleKind, reason: string | null, ms: number): Promise<void> {
    if (reason) {
      Object.assign(now, { throttled: reason, kind, sinceMs: Date.now() });
      ctx.heartbeat({ throttled: reason, kind, since: now.sinceMs });
    }
    const started = performance.now();
    await ctx.sleep(ms);
    account(runId, out, kind, performance.now() - started);
    if (reason) Object.assign(now, { throttled: null, kind: null, sinceMs: null });
  }

  /** How many batches of a lane run's range (firstBatchNo onwards, consecutive) the ledger holds. */
  async function committedBatches(runId: string, firstBatchNo: number, maxBatches: number): Promise<number> {
    const [row] = await db.query('SELECT count(*)::int AS n FROM purge_batch WHERE run_id = ? AND batch_no >= ? AND batch_no < ?', [runId, firstBatchNo, firstBatchNo + maxBatches]);
    return toNumber(row?.n);
  }

  /**
   * Waits while the database is over the run's impact budget (src/purge/brake.ts), heartbeating the reason.
   * `handback` when this lane run should return to the workflow (still throttled after THROTTLE_HANDBACK_MS),
   * `critical` when a critical value lasted long enough to end the run.
   */
  async function withinBudget(ctx: Context, runId: string, budget: BrakeSettings, out: LaneRunResult, now: ThrottleNow): Promise<'go' | 'handback' | 'critical'> {
    if (!checksAnything(budget) && !throttleQuery) return 'go';
    const since = performance.now();
    let last = since;
    for (let waiting = false; ; waiting = true) {
      const p = await pressureNow(budget);
      const critical = criticalFor(p, budget);
      out.criticalSinceMs = critical ? (out.criticalSinceMs ?? Date.now()) : null;
      if (critical && criticalLasted(out.criticalSinceMs!, Date.now(), budget)) {
        out.critical = critical;
        logger.warn({ reason: critical }, 'purge ends: a critical threshold lasted');
        return 'critical';
      }
      const brake = brakeFor(p, budget);
      const t = performance.now();
      if (waiting && now.kind) account(runId, out, now.kind, t - last);
      last = t;
      if (!brake || t - since >= THROTTLE_HANDBACK_MS) {
        if (!brake) {
          if (now.throttled) ctx.heartbeat({ throttled: null });
          Object.assign(now, { throttled: null, kind: null, sinceMs: null });
        }
        Object.assign(out, { throttled: now.throttled, throttledKind: now.kind, throttledSinceMs: now.sinceMs });
        return brake ? 'handback' : 'go';
      }
      if (!now.throttled) logger.info({ reason: brake.text }, 'purge throttled');
      Object.assign(now, { throttled: brake.text, kind: brake.kind, sinceMs: now.sinceMs ?? Date.now() });
      ctx.heartbeat({ throttled: brake.text, kind: brake.kind, since: now.sinceMs });
      await ctx.sleep(recheckAfterMs(t - since));
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
    ...createAftermathActivities({ db, logger, walCompression }),

    /** Validates the job and its parameters and returns the rule, so the run's history records what it ran. */
    async resolveJob(input: { job: string; params?: unknown }): Promise<ResolvedJob> {
      return checkedAsync(async () => {
        const job = purges.purge(input.job);
        // The job's defaults first (its batch size, the fraction guard of a job that deletes accounts), then the run's own.
        const defaults = { ...(job.defaultBatchSize ? { batchSize: job.defaultBatchSize } : {}), ...(job.maxFraction !== undefined ? { maxFraction: job.maxFraction } : {}) };
        const params = parsePurgeParams({ ...defaults, ...(input.params as object | undefined) });
        // Steps built from the database's foreign keys are built (or refused) before anything is touched; every
        // step deletes by key: a table without a usable one is refused before anything runs.
        const steps = await resolveSteps(db, job, params);
        if (params.parallel !== undefined && params.parallel > maxParallel) {
          throw new InputError('parallel', `${params.parallel} is not allowed on this worker; expected an integer from 1 to ${maxParallel} (MAINT_MAX_PARALLEL)`);
        }
        // The run's budget within the deployment's limits: a knob looser than them is refused here, naming it.
        const budget = resolveBudget(params, brakes);
        return { job: job.name, steps, params, fingerprint: fingerprintOf(steps), budget, limits: { brakes, maxParallel } };
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
    async refuseRun(input: { runId: string; workflowId: string; job: string; trigger: string; error: string; at: string; dryRun?: boolean; status?: 'failed' | 'cancelled'; scheduled?: ScheduledStart }): Promise<void> {
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
      // On the run's record too: its job's backlog while it runs (maint_backlog_rows). A retry writes it again.
      await runRecord.recordEstimate(db, executionRunId(), total);
      return total;
    },

    /** The fraction guard's measure of each step (the rows it would change, of how many), before the run's first batch. */
    async measureShares(input: { steps: Array<{ rule: RetentionRule; cutoff: string }> }): Promise<StepShare[]> {
      return checkedAsync(async () => {
        const out: StepShare[] = [];
        for (const { rule, cutoff } of input.steps) out.push(await stepShare(db, rule, cutoff));
        return out;
      });
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
      const compression = await walCompressionFor(db, walCompression);
      // The heartbeat carries why the lane waits, if it does: the CLI's progress and the Web UI show it.
      const now: ThrottleNow = { throttled: null, kind: null, sinceMs: input.throttledSinceMs ?? null };
      const beat = setInterval(() => ctx.heartbeat(now.throttled ? { throttled: now.throttled, kind: now.kind, since: now.sinceMs } : undefined), 1_000);
      const started = performance.now();
      const budget = input.budget ?? brakes;
      const out: LaneRunResult = { lane: input.state, batches: 0, deleted: 0, updated: 0, children: {}, leftLocked: 0, durationMs: 0, criticalSinceMs: input.criticalSinceMs ?? null };
      const planned = input.plannedSize ?? input.state.size;
      let blockedInARow = 0;
      // A retry first replays the batches an earlier attempt committed, whatever its budget or the time: the run's
      // counts and the lanes' positions must take in every batch the ledger has (a row cap relies on them).
      const committed = ctx.info.attempt > 1 ? await committedBatches(recordId, input.firstBatchNo, input.maxBatches) : 0;
      const replaying = () => out.batches < committed;
      // A cancel of the run arrives with a heartbeat's answer: no batch starts after it (the one running finishes or
      // rolls back in its own transaction), and the workflow, which waits for this, closes the record from the ledger.
      const stopIfCancelled = () => {
        if (ctx.cancellationSignal.aborted) throw new CancelledFailure(`lane run stopped after ${out.batches} batches: the purge was cancelled`);
      };
      try {
        while (!out.lane.done && out.batches < input.maxBatches && (out.batches === 0 || replaying() || performance.now() - started < input.budgetMs)) {
          stopIfCancelled();
          // Batches an earlier attempt committed are replayed from the ledger: no brake, no time limit, no sleep.
          const replay = replaying();
          // The lane run's share of the row cap is used up: back to the workflow, which ends the run at the cap.
          const cap = batchCap(input.maxRows, out.deleted + out.updated, out.lane.size);
          if (cap === 0) break;
          // The run's time limit passed: no batch starts (the one that ran finished in its own transaction).
          if (!replay && input.stopAtMs !== undefined && Date.now() >= input.stopAtMs) {
            out.timeUp = true;
            break;
          }
          // Over the impact budget: wait here (heartbeating why), and after a while hand back to the workflow
          // rather than outlive this activity's timeout; the workflow starts the lane's next run, which waits again.
          if (!replay) {
            const verdict = await withinBudget(ctx, recordId, budget, out, now);
            if (verdict !== 'go') return out;
            // The wait on the budget may have run past the time limit: still no batch starts after it.
            if (input.stopAtMs !== undefined && Date.now() >= input.stopAtMs) {
              out.timeUp = true;
              break;
            }
          }
          const batch = { ...input, runId: recordId, batchNo: input.firstBatchNo + out.batches, size: out.lane.size, walk: walkOf(out.lane, input.strategy), checkBlocking: Boolean(budget.blockingBrake), ...(cap !== undefined ? { cap } : {}), address, walCompression: compression.set };
          let res: BatchResult;
          try {
            res = await walkBatch(batch, ctx.info.attempt);
          } catch (err) {
            // A batch that failed once the cancel came is not retried: the run stops.
            stopIfCancelled();
            // On record while it retries (best effort: the database may be what fails).
            const reason = databaseErrorMessage(err)?.message ?? (err instanceof Error ? err.message : String(err));
            await runRecord.noteBatchFailure(db, recordId, `attempt ${ctx.info.attempt}: ${reason}`).catch(() => undefined);
            throw err;
          }
          // The first batch a retried lane run commits: the failure it was retrying is over.
          if (ctx.info.attempt > 1 && out.batches === 0) await runRecord.clearBatchFailure(db, recordId);
          ctx.heartbeat();
          const moved = advanceLane(out.lane, res, input, input.targetMs, cap);
          out.lane = moved.lane;
          out.leftLocked += moved.leftLocked;
          out.batches += 1;
          out.deleted += res.deleted;
          out.updated += res.updated ?? 0;
          out.children = addCounts(out.children, res.children);
          out.durationMs += res.durationMs;
          if (budget.blockingBrake && !replay && !out.lane.done) {
            // A batch that made the application wait: the next ones are smaller (shorter-held locks) and the lane
            // backs off, longer with each such batch in a row; once batches block nobody, the size grows back.
            const blocked = res.blocked ?? 0;
            const size = sizeAfterBlocking(batch.size, blocked, planned, Math.min(BLOCKED_MIN_SIZE, batch.size));
            if (blocked > 0) {
              blockedInARow += 1;
              out.lane.size = Math.min(out.lane.size, size);
              const backoff = blockingBackoffMs(blockedInARow);
              const reason = `a batch made ${blocked} application session(s) wait on its locks: next batches ${batch.size} -> ${out.lane.size}, backing off ${backoff} ms`;
              logger.info({ runId: input.runId, lane: input.lane, blocked, size: out.lane.size }, 'purge blocked the application: shrinking');
              await throttledSleep(ctx, recordId, out, now, 'blocking', reason, backoff);
              continue;
            }
            blockedInARow = 0;
            if (!input.adaptive) out.lane.size = size;
          }
          const pause = sleepAfterBatchMs(res.durationMs, budget);
          if (pause > 0 && !replay && !out.lane.done) await throttledSleep(ctx, recordId, out, now, 'sleep', null, pause);
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
