import { ActivityCancellationType, ApplicationFailure, CancellationScope, CancelledFailure, condition, continueAsNew, patched, proxyActivities, setCurrentDetails, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../../activities/index.js';
import type { RecordedRun } from '../../src/db/run-record.js';
import { parsePurgeParams } from '../../src/purge/params.js';
import { parseControlRequest, parsePurgeInput } from '../../src/purge/input.js';
import type { Progress, PurgeContinuation, PurgeControl, PurgeParams, PurgeResult, RetentionRule, RunLimits, StepPlanSummary } from '../../src/purge/types.js';
import type { PurgeAftermath } from '../../src/purge/aftermath.js';
import { legacyBatchedPurge } from '../../src/purge/legacy-v1/workflow.js';
import type { LegacyCarriedState, LegacyPurgeInput } from '../../src/purge/legacy-v1/types.js';
import { addCounts } from '../../src/kernel/counts.js';
import { InputError } from '../../src/kernel/errors.js';
import { knobsOf, withKnobs, type Knob } from '../../src/purge/budget.js';
import type { BrakeSettings, ThrottleKind } from '../../src/purge/brake.js';
import { controlUpdate, progressQuery } from '../../src/temporal/queries.js';
import { short, acceptInput, causeOf, refuseStart, scheduledField, startedBySchedule, triggerOf } from '../job-run.js';
import { notifyOutcome } from '../notify.js';
import { aftermathInput, endOnError, finishing, startRecord, stepNamesOf, vacuumAfter } from './run-record.js';
import { fractionNotes, fractionRefusal, rowAllowance, stopMessage, type StepShare, type StoppedBy } from '../../src/purge/breakers.js';


/** Work one lane's activity does before it reports back: Temporal's round trip is paid per second, not per batch. */
const LANE_RUN_BUDGET_MS = 1_000;

/**
 * The lane runs' activities. `stoppable` (patch `cancellable-lane-runs`): a cancel reaches a lane run through its
 * heartbeat, and the run waits for the activity to confirm it stopped (between two batches), so the record it
 * closes with counts every committed batch; a retry pending after a failed batch is cancelled by the server at once.
 */
function laneActivities(batchTimeoutSeconds: number, stoppable: boolean) {
  return proxyActivities<Activities>({
    // A batch is meant to take a fraction of a second; its statement timeout bounds it, and its heartbeat
    // tells within seconds when its worker died, so another worker retries it at once.
    startToCloseTimeout: `${batchTimeoutSeconds + 10} seconds`,
    heartbeatTimeout: '3 seconds',
    ...(stoppable ? { cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED } : {}),
    retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 20 },
  });
}

/**
 * The one batched purge: every deleting job is a list of retention rules (steps) run by this workflow.
 *
 * Its input is untrusted (any client of the namespace can start it): it is parsed strictly first, the rules
 * come from the worker's job registry, and the reference time and cutoffs are fixed once at the start and
 * recorded with the run; a continued run reads them back from that record and proves it runs the same rules.
 * Each step is planned from the live catalog (walk a timestamp index, or the key in chunks), its range split
 * into lanes that run concurrently as streams of batch activities, each batch one short transaction whose
 * counts come from the ledger, so they are exact after any retry or crash.
 */
export async function batchedPurge(raw: unknown): Promise<PurgeResult> {
  // Histories recorded before planned walks replay with the frozen code that recorded them (docs/versioning.md).
  if (!patched('planned-walks')) return legacyBatchedPurge(raw as LegacyPurgeInput);
  const info = workflowInfo();
  const runId = info.firstExecutionRunId;

  // Checked strictly here; what the run plans with is what the worker resolves below.
  const { input, params: asSent } = await acceptInput(undefined, raw, (r) => {
    const parsed = parsePurgeInput(r);
    return { input: parsed, params: parsePurgeParams(parsed.params) };
  });
  // The parsed trigger is never empty, so `triggerOf` picks what `??` did.
  const trigger = triggerOf(input.trigger);

  // Only the workflow itself continues as new; a state in a fresh start came from a client.
  const refuseForged = async (message: string): Promise<never> => {
    await short.refuseRun({ runId, workflowId: info.workflowId, job: input.job, trigger, error: message, at: new Date().toISOString(), ...scheduledField() });
    throw ApplicationFailure.nonRetryable(message, 'ForgedState');
  };
  if ((input.carried || input.legacy) && !info.continuedFromExecutionRunId) {
    await refuseForged('input.carried: a purge state was sent with a new run; it is only accepted from the run\'s own continue-as-new');
  }
  if (input.legacy) return legacyBatchedPurge({ job: input.job, params: input.params, trigger: input.trigger, carried: input.legacy as unknown as LegacyCarriedState });

  let phase: Progress['phase'] = input.carried ? 'deleting' : 'starting';
  let s: PurgeContinuation | undefined = input.carried;
  let recorded: RecordedRun | undefined;
  let params: PurgeParams = asSent;
  // The run's impact budget (patch `purge-budgets`: resolved by the worker, changed live by an operator) and why
  // each lane waits now, for the progress query and the current details.
  let budgeted: { base: BrakeSettings; limits: { brakes: BrakeSettings; maxParallel: number }; name: string } | undefined;
  const throttleNow: Array<{ reason: string | null; kind: ThrottleKind | null; sinceMs: number | null }> = [];
  const budgetNow = (): BrakeSettings | undefined => {
    if (!budgeted) return undefined;
    try {
      return withKnobs(budgeted.base, control.budget ?? {}, budgeted.limits.brakes, (k) => `${k} (maint control)`);
    } catch {
      // An operator's change carried from a worker with looser limits than this one's: the run's own budget holds.
      return budgeted.base;
    }
  };
  // The limit ending the run, once one did (circuit breakers).
  let stoppedBy: StoppedBy | undefined;
  const fullProgress = (): Progress => {
    const now = throttleNow.find((t) => t?.reason);
    const b = budgetNow();
    return {
      ...progressOf(input.job, params, phase, s, recorded, stoppedBy),
      control,
      ...(budgeted ? { throttle: { reason: now?.reason ?? null, kind: now?.kind ?? null, since: now?.sinceMs ? new Date(now.sinceMs).toISOString() : null, totalMs: s?.throttledMs ?? {} }, budget: b ? { ...knobsOf(b), name: budgeted.name } : null } : {}),
    };
  };
  setHandler(progressQuery, fullProgress);
  // An operator's pause, batch size, lanes and budget hold until changed, across continue-as-new. Checked before it is
  // accepted, against the deployment's limits too: a bad request is rejected and leaves no trace in the history.
  const control: PurgeControl = { paused: false, batchSize: null, ...input.carried?.control };
  // How long an operator's pause held the run (this run and the ones before): its rate leaves that time out.
  let pausedMs = input.carried?.pausedMs ?? 0;
  let pausedSinceMs: number | null = control.paused ? (input.carried?.pausedSinceMs ?? Date.now()) : null;
  const pausedSoFar = () => pausedMs + (pausedSinceMs !== null ? Date.now() - pausedSinceMs : 0);
  setHandler(
    controlUpdate,
    (req) => {
      if (req.pause !== undefined && req.pause !== control.paused) {
        if (req.pause) pausedSinceMs = Date.now();
        else [pausedMs, pausedSinceMs] = [pausedSoFar(), null];
      }
      if (req.pause !== undefined) control.paused = req.pause;
      if (req.batchSize !== undefined) control.batchSize = req.batchSize;
      if (req.parallel !== undefined) control.parallel = req.parallel;
      const knobs = Object.fromEntries(Object.entries(req).filter(([k]) => k !== 'pause' && k !== 'batchSize' && k !== 'parallel'));
      if (Object.keys(knobs).length) control.budget = { ...control.budget, ...knobs };
      showProgress();
      return { ...control };
    },
    {
      validator: (req) => {
        const parsed = parseControlRequest(req);
        const knobs = Object.keys(parsed).filter((k) => k !== 'pause' && k !== 'batchSize' && k !== 'parallel') as Knob[];
        if ((knobs.length || parsed.parallel) && !budgeted) throw new InputError('control', 'this run has no budget to change (it started before budgets, or has not resolved its job yet); allowed now: pause, batchSize');
        if (budgeted && parsed.parallel && parsed.parallel > budgeted.limits.maxParallel) {
          throw new InputError('control.parallel', `${parsed.parallel} is not allowed on this worker; expected an integer from 1 to ${budgeted.limits.maxParallel} (MAINT_MAX_PARALLEL), or null for the planned lanes`);
        }
        if (budgeted) withKnobs(budgeted.base, parsed, budgeted.limits.brakes, (k) => k, (k) => `control.${k}`);
      },
    },
  );
  // The Web UI's "current details": the same progress in words, refreshed as lane runs report (metadata, not history).
  const showProgress = () => setCurrentDetails(describeProgress(fullProgress(), workflowInfo().startTime, pausedSoFar(), workflowInfo().workflowId));

  // A missing table, a preset on the wrong database, a parameter this worker refuses: on record too.
  const resolved = await short.resolveJob({ job: input.job, params: input.params }).catch(async (err: unknown) => {
    if (!input.carried) await refuseStart({ job: input.job, trigger, dryRun: asSent.dryRun }, err);
    throw err;
  });
  // One owner per value: the worker resolved the run's parameters (the job's defaults, a custom rule's batch size,
  // the run's own), and the run plans, batches and records with those.
  params = resolved.params;
  const steps = resolved.steps ?? [];
  if (resolved.budget && resolved.limits && patched('purge-budgets')) budgeted = { base: resolved.budget, limits: resolved.limits, name: params.budget ?? 'balanced' };
  if (!s) {
    const startedAtMs = Date.now();
    const reference = params.asOf ? Date.parse(params.asOf) : startedAtMs;
    recorded = { runTime: new Date(reference).toISOString(), cutoffs: steps.map((r) => new Date(reference - r.retentionMs).toISOString()), startedAtMs };
    s = { v: 2, startedAtMs, nextBatchNo: 0, batchesDone: 0, matched: null, deleted: 0, updated: 0, children: {}, step: 0, plans: [], lanes: [], leftLocked: 0 };
  } else {
    try {
      recorded = await short.loadRun({ runId, job: resolved.job, fingerprint: resolved.fingerprint ?? '', continuedFrom: info.continuedFromExecutionRunId });
    } catch (err) {
      const cause = causeOf(err);
      if (cause instanceof ApplicationFailure && cause.type === 'ForgedState') await refuseForged(cause.message);
      throw err;
    }
  }
  const state: PurgeContinuation = s;
  const rec: RecordedRun = recorded!;

  // A dry run's remarks (it never continues as new: it counts, plans and finishes).
  let notes: string[] | undefined;
  // What a real run that planned a step leaves behind (patch `purge-aftermath`): read once its batches are over,
  // before its VACUUM (if asked for) and before its record closes; a run that could not read it closes anyway.
  let aftermath: PurgeAftermath | undefined;
  let aftermathOn: boolean | undefined;
  const recordsAftermath = () => !params.dryRun && state.plans.length > 0 && (aftermathOn ??= patched('purge-aftermath'));
  const readAftermath = () => short.purgeAftermath(aftermathInput(runId, steps, state)).catch(() => undefined);
  // Circuit breakers (patch `circuit-breakers`): a row cap, a time limit, the fraction guard.
  const breakers = patched('circuit-breakers');
  const limits = breakers ? limitsOf(params, state.startedAtMs) : undefined;
  let shares: StepShare[] | undefined;
  const finish = (status: PurgeResult['status'], error?: string) =>
    finishing(
      (p) => (phase = p),
      async () => {
        if (!aftermath && recordsAftermath()) aftermath = await readAftermath();
        const done = await short.finishRun({
          runId,
          status,
          dryRun: params.dryRun,
          // A real run's count is exact from the ledger; its `matched` so far was the planner's estimate.
          matched: params.dryRun ? state.matched : null,
          leftLocked: state.leftLocked,
          finishedAt: new Date().toISOString(),
          error,
          plans: state.plans,
          ...stepNamesOf(steps),
          ...(aftermath ? { aftermath } : {}),
          ...(pausedSoFar() > 0 ? { pausedMs: pausedSoFar() } : {}),
        });
        state.matched = done.matched;
        await notifyOutcome(runId);
        const result: PurgeResult = { ...done, job: resolved.job, dryRun: params.dryRun, cutoff: rec.cutoffs[0]!, plans: state.plans, skippedLocked: state.leftLocked, ...(aftermath ? { aftermath } : {}) };
        if (limits) result.limits = limits;
        if (shares) result.shares = shares;
        if (status === 'partial' && stoppedBy && error) result.stopped = { by: stoppedBy, reason: error };
        if (steps.length > 1) result.cutoffs = Object.fromEntries(steps.map((rule, i) => [rule.name ?? rule.table, rec.cutoffs[i]!]));
        // Dry runs delete nothing: report what would go, step by step, updates apart from deletions.
        return params.dryRun ? { ...result, children: state.children, ...dryRunSteps(steps, dryPerStep), ...(notes ? { notes } : {}) } : result;
      },
    );

  let continueNow = false;
  // A critical threshold of the budget that lasted: the run ends, partial, with this reason; the next run goes on.
  let critical: string | undefined;
  // A dry run's matches per step (it finishes in this run, so they need no place in the continued state).
  let dryPerStep: number[] | undefined;
  // A failure that ends a cancelled run (a batch failed once the cancel was asked for) is its cancellation.
  let cancelEndsRun = false;
  try {
    if (state.matched === null) {
      const start = startRecord(runId, resolved.job, params, trigger, rec.cutoffs[0]!, state.startedAtMs);
      await short.startRun({ ...start, runTime: rec.runTime, cutoffs: rec.cutoffs, fingerprint: resolved.fingerprint });
      phase = 'counting';
      if (params.dryRun) {
        const count = await short.countMatching({
          rule: steps[0]!,
          cutoff: rec.cutoffs[0]!,
          ...(steps.length > 1 ? { more: steps.slice(1).map((rule, i) => ({ rule, cutoff: rec.cutoffs[i + 1]! })) } : {}),
        });
        state.matched = count.matched;
        state.children = count.children;
        dryPerStep = count.perStep ?? [count.matched];
        notes = count.notes;
      } else {
        state.matched = await short.estimateMatching({ steps: steps.map((rule, i) => ({ rule, cutoff: rec.cutoffs[i]! })) });
      }
      // The fraction guard, before any batch: a real run that would take more than its share of a table is refused
      // (on record as failed, nothing touched); a dry run says what a real run would meet.
      if (limits?.maxFraction !== undefined && limits.maxFraction < 1) {
        shares = await short.measureShares({ steps: steps.map((rule, i) => ({ rule, cutoff: rec.cutoffs[i]! })) });
        const refusal = fractionRefusal(shares, limits.maxFraction);
        if (params.dryRun) notes = [...(notes ?? []), ...fractionNotes(shares, limits.maxFraction)];
        else if (refusal) throw ApplicationFailure.nonRetryable(refusal, 'FractionGuard');
      }
    }
    if (params.dryRun) {
      phase = 'planning';
      // What each step would do, with the EXPLAIN of one batch: an operator sees how a run will go.
      for (const [i, rule] of steps.entries()) state.plans[i] = await planOf(rule, rec.cutoffs[i]!, rec.runTime, params, true);
      return await finish('completed');
    }

    // Before this patch a started lane run went to its end (retries included) whatever a cancel said.
    const stoppable = patched('cancellable-lane-runs');
    const summaries = patched('activity-summaries');
    cancelEndsRun = stoppable;
    const batches = laneActivities(params.batchTimeoutSeconds, stoppable);
    let batchesThisRun = 0;
    let failure: unknown;
    const stopping = () => failure !== undefined || critical !== undefined || continueNow || stoppedBy !== undefined || CancellationScope.current().consideredCancelled;
    // Lane runs under way, for an operator's cap on lanes at once (`maint control --parallel`).
    let running = 0;
    let criticalSinceMs: number | null = null;
    // The row cap and the time limit, for the whole run (its steps and continued runs together).
    const changed = () => state.deleted + state.updated;
    const cap = limits?.maxRows;
    const deadline = limits?.stopsAt !== undefined ? Date.parse(limits.stopsAt) : undefined;
    const limitReached = (): StoppedBy | undefined =>
      cap !== undefined && changed() >= cap ? 'maxRows' : deadline !== undefined && Date.now() >= deadline ? 'maxDurationSeconds' : undefined;
    // Rows promised to lane runs under way: they share what the cap leaves, so the run never changes more than it.
    let reserved = 0;
    const unfinished = () => state.lanes.filter((l) => !l.done).length;

    /**
     * One lane: runs of its batches (about a second of work each, in one activity) until it is done, or the run
     * pauses for continue-as-new, fails or is cancelled. Each run gets a fresh range of batch numbers.
     */
    const runLane = async (rule: RetentionRule, plan: StepPlanSummary, laneNo: number): Promise<void> => {
      const step = state.step;
      while (!state.lanes[laneNo]!.done && !stopping()) {
        // Paused by an operator: no lane run starts until resumed (or the run stops, or its time is up).
        if (control.paused) {
          if (deadline !== undefined) await condition(() => !control.paused || stopping(), Math.max(1, deadline - Date.now()));
          else await condition(() => !control.paused || stopping());
        }
        if (budgeted && control.parallel && running >= control.parallel) await condition(() => running < (control.parallel ?? Infinity) || stopping());
        if (breakers) stoppedBy ??= limitReached();
        if (stopping()) break;
        let allowance: number | undefined;
        if (cap !== undefined) {
          allowance = rowAllowance(cap, changed(), reserved, unfinished());
          // Everything the cap leaves is promised to other lanes: wait for them to hand back what they did not use.
          if (allowance === 0) {
            await condition(() => rowAllowance(cap, changed(), reserved, unfinished()) > 0 || changed() >= cap || stopping());
            continue;
          }
          reserved += allowance;
        }
        const maxBatches = Math.max(1, params.batchesPerRun - batchesThisRun);
        const firstBatchNo = state.nextBatchNo;
        state.nextBatchNo += maxBatches;
        const laneInput = {
            runId,
            firstBatchNo,
            maxBatches,
            budgetMs: LANE_RUN_BUDGET_MS,
            step,
            lane: laneNo,
            rule,
            cutoff: rec.cutoffs[step]!,
            runTime: rec.runTime,
            strategy: plan.strategy,
            adaptive: control.batchSize ? false : plan.adaptive,
            targetMs: params.targetBatchMs ?? 0,
            state: control.batchSize ? { ...state.lanes[laneNo]!, size: control.batchSize } : state.lanes[laneNo]!,
            timeoutMs: params.batchTimeoutSeconds * 1000,
            ...(budgeted
              ? { budget: budgetNow(), plannedSize: control.batchSize ?? plan.chunk, criticalSinceMs, throttledSinceMs: throttleNow[laneNo]?.sinceMs ?? null }
              : {}),
            ...(allowance !== undefined ? { maxRows: allowance } : {}),
            ...(deadline !== undefined ? { stopAtMs: deadline } : {}),
          };
        // The Web UI names each lane run by its step, lane and batches (patch `activity-summaries`).
        const summary = `${plan.step} · lane ${laneNo + 1} of ${state.lanes.length} · batches ${firstBatchNo} to ${firstBatchNo + maxBatches - 1}`;
        const laneRun = () => (summaries ? batches.purgeLaneRun.executeWithOptions({ summary }, [laneInput]) : batches.purgeLaneRun(laneInput));
        running += 1;
        let res: Awaited<ReturnType<typeof laneRun>>;
        try {
          res = stoppable ? await laneRun() : await CancellationScope.nonCancellable(laneRun);
        } finally {
          running -= 1;
          if (allowance !== undefined) reserved -= allowance;
        }
        state.lanes[laneNo] = res.lane;
        if (budgeted) {
          throttleNow[laneNo] = { reason: res.throttled ?? null, kind: res.throttledKind ?? null, sinceMs: res.throttledSinceMs ?? null };
          for (const [kind, ms] of Object.entries(res.throttledByKind ?? {})) state.throttledMs = { ...state.throttledMs, [kind]: (state.throttledMs?.[kind as ThrottleKind] ?? 0) + ms };
          criticalSinceMs = res.criticalSinceMs ?? null;
          if (res.critical) critical ??= res.critical;
        }
        state.deleted += res.deleted;
        state.updated += res.updated;
        state.children = addCounts(state.children, res.children);
        state.leftLocked += res.leftLocked;
        state.batchesDone = (state.batchesDone ?? 0) + res.batches;
        batchesThisRun += res.batches;
        if (breakers) stoppedBy ??= res.timeUp ? 'maxDurationSeconds' : cap !== undefined && changed() >= cap ? 'maxRows' : undefined;
        showProgress();
        if (batchesThisRun >= params.batchesPerRun || workflowInfo().continueAsNewSuggested) continueNow = true;
      }
    };

    phase = 'deleting';
    showProgress();
    while (state.step < steps.length) {
      // A limit reached at the end of a step ends the run before the next is planned.
      if (breakers && (stoppedBy ??= limitReached())) break;
      const rule = steps[state.step]!;
      if (!state.plans[state.step]) {
        phase = 'planning';
        // An operator's lane count plans the steps not begun yet (the lanes of a begun step are split already).
        const plan = await planOf(rule, rec.cutoffs[state.step]!, rec.runTime, params, false, (budgeted && control.parallel) || params.parallel);
        state.plans[state.step] = plan;
        state.lanes = plan.lanes.map((l) => ({ from: l.from, to: l.to, after: null, size: plan.chunk, done: false, skipped: 0, revisit: null, revisiting: false }));
        phase = 'deleting';
      }
      const plan = state.plans[state.step]!;
      await Promise.all(
        state.lanes.map((_, i) =>
          runLane(rule, plan, i).catch((err: unknown) => {
            // The other lanes finish their running batch and stop, so the counts below are final.
            failure ??= err;
          }),
        ),
      );
      if (failure !== undefined) throw failure;
      if (CancellationScope.current().consideredCancelled) throw new CancelledFailure('purge cancelled; the batches committed so far are recorded');
      if (critical !== undefined) break;
      if (state.lanes.some((l) => !l.done)) break;
      state.step += 1;
      state.lanes = [];
      throttleNow.length = 0;
    }
    // Every step walked: what the run left, and the VACUUM asked for (cancellable, like the batches).
    if (state.step >= steps.length && recordsAftermath()) {
      aftermath = await readAftermath();
      if (aftermath && params.vacuum) {
        phase = 'vacuuming';
        showProgress();
        aftermath = await vacuumAfter(runId, aftermath, (a) => (aftermath = a));
      }
    }
  } catch (err) {
    // A schedule's tick that finds its job running (started by hand) skips: a failure would pause the schedule.
    const cause = causeOf(err);
    if (cause instanceof ApplicationFailure && cause.type === 'AlreadyRunning' && startedBySchedule() && patched('record-refused-starts')) {
      return finish('skipped', cause.message);
    }
    return endOnError(err, finish, cancelEndsRun && CancellationScope.current().consideredCancelled);
  }
  if (critical !== undefined) return finish('partial', `stopped by the budget's critical threshold: ${critical}; the next run goes on from here`);
  // Stopped by its row cap or time limit with rows left: partial, and the next run goes on.
  if (stoppedBy && state.step < steps.length) return finish('partial', stopMessage(stoppedBy, limits ?? {}, state.deleted + state.updated));
  if (state.step < steps.length) {
    phase = 'deleting';
    const controlled = control.paused || control.batchSize || control.parallel || control.budget;
    // The operator's control as it is now: the state this run was carried in holds the control of the run before,
    // and a resume must not come back paused in the next run.
    const { control: _carriedControl, pausedMs: _carriedPause, pausedSinceMs: _carriedSince, ...rest } = state;
    // The pauses that ended, and when the one under way began: the next run goes on counting it from there.
    if (pausedMs > 0) Object.assign(rest, { pausedMs });
    if (pausedSinceMs !== null) Object.assign(rest, { pausedSinceMs });
    const next = { job: input.job, ...(input.params ? { params: input.params } : {}), trigger, carried: controlled ? { ...rest, control } : rest };
    return continueAsNew<typeof batchedPurge>(next);
  }
  return finish('completed');
}

async function planOf(rule: RetentionRule, cutoff: string, runTime: string, params: PurgeParams, explain: boolean, parallel = params.parallel): Promise<StepPlanSummary> {
  return short.planPurgeStep({
    rule,
    cutoff,
    runTime,
    ...(parallel !== undefined ? { parallel } : {}),
    batchSize: params.batchSize,
    adaptive: Boolean(params.targetBatchMs),
    explain,
  });
}

/** What a dry run would do per step: rows per step name, and how many of them an update step would update, not delete. */
function dryRunSteps(steps: RetentionRule[], perStep: number[] | undefined): Partial<Pick<PurgeResult, 'steps' | 'updated'>> {
  if (!perStep || perStep.length !== steps.length) return {};
  const updated = steps.reduce((sum, rule, i) => sum + (rule.action?.type === 'update' ? perStep[i]! : 0), 0);
  return {
    ...(steps.length > 1 || updated ? { steps: Object.fromEntries(steps.map((rule, i) => [rule.name ?? rule.table, perStep[i]!])) } : {}),
    ...(updated ? { updated } : {}),
  };
}

/** Progress as the Web UI's current details show it (markdown): phase, step, rows, batches, rate since the start. */
function describeProgress(p: Progress, startedAt: Date, pausedMs: number, workflowId: string): string {
  const seconds = Math.max(1, (Date.now() - startedAt.getTime() - pausedMs) / 1000);
  const step = (p.steps ?? 0) > 1 ? ` · step ${(p.step ?? 0) + 1} of ${p.steps}${p.plan ? ` (${p.plan.step})` : ''}` : '';
  const lanes = p.lanes?.length ? ` · lanes ${p.lanes.filter((l) => l.done).length}/${p.lanes.length} done` : '';
  const held = p.control?.paused ? ` · **paused by an operator** (\`maint control ${workflowId} --resume\`)` : p.control?.batchSize ? ` · batch size fixed at ${p.control.batchSize} by an operator` : '';
  const waits = throttleLines(p, Date.now());
  const l = p.limits;
  const caps = [
    ...(l?.maxRows !== undefined ? [`at most ${l.maxRows} rows`] : []),
    ...(l?.stopsAt ? [`stops between batches at ${l.stopsAt}`] : []),
    ...(l?.maxFraction !== undefined && l.maxFraction < 1 ? [`refuses a step over ${Math.round(l.maxFraction * 1000) / 10}% of its table`] : []),
  ];
  const limitsLine = caps.length ? ['', `limits: ${caps.join(' · ')}${p.stopping ? ` · **stopping: ${p.stopping} reached**` : ''}`] : [];
  return [
    `**${p.phase}**${step}${lanes}${held}`,
    '',
    `${p.dryRun ? 'would change' : 'changed'} **${p.deleted}** rows of about ${p.matched ?? '?'} · ${p.batches} batches · ${Math.round(p.deleted / seconds)} rows/s since the start${pausedMs >= 1000 ? `, ${Math.round(pausedMs / 1000)} s paused aside` : ''}`,
    ...(p.cutoff ? ['', `cutoff \`${p.cutoff}\``] : []),
    ...waits,
    ...limitsLine,
    '',
    'a batch that fails and retries, or a lane waiting on the brakes, shows under Pending Activities',
  ].join('\n');
}

/** The throttle in words: why the lanes wait now and for how long, and what they waited for so far. */
function throttleLines(p: Progress, nowMs: number): string[] {
  if (!p.throttle) return [];
  const out: string[] = [];
  if (p.throttle.reason) out.push('', `**throttled**${p.throttle.since ? ` for ${Math.max(0, Math.round((nowMs - Date.parse(p.throttle.since)) / 1000))} s` : ''}: ${p.throttle.reason}`);
  const totals = Object.entries(p.throttle.totalMs).filter(([, ms]) => ms > 0);
  if (totals.length) out.push('', `waited so far: ${totals.map(([k, ms]) => `${k} ${Math.round(ms / 1000)} s`).join(', ')}`);
  if (p.budget) out.push('', `budget **${p.budget.name}**: replica lag ≤ ${p.budget.maxReplicaLag || 'off'} s, sleep ${p.budget.sleepCoef}x batch time, probe ≤ ${p.budget.maxProbeLatency || 'off'}x idle`);
  return out;
}

/** The run's circuit breakers, when it has any: its row cap, its time limit (and when it falls), its fraction guard. */
function limitsOf(params: PurgeParams, startedAtMs: number): RunLimits | undefined {
  const l: RunLimits = {
    ...(params.maxRows !== undefined ? { maxRows: params.maxRows } : {}),
    ...(params.maxDurationSeconds !== undefined ? { maxDurationSeconds: params.maxDurationSeconds, stopsAt: new Date(startedAtMs + params.maxDurationSeconds * 1000).toISOString() } : {}),
    ...(params.maxFraction !== undefined ? { maxFraction: params.maxFraction } : {}),
  };
  return Object.keys(l).length ? l : undefined;
}

function progressOf(job: string, params: PurgeParams, phase: Progress['phase'], s: PurgeContinuation | undefined, rec: RecordedRun | undefined, stopping?: StoppedBy): Progress {
  const plan = s?.plans[s.step] ?? null;
  const limits = s ? limitsOf(params, s.startedAtMs) : undefined;
  return {
    ...(limits ? { limits } : {}),
    ...(stopping ? { stopping } : {}),
    job,
    dryRun: params.dryRun,
    phase,
    cutoff: rec?.cutoffs[0] ?? null,
    matched: s?.matched ?? null,
    deleted: (s?.deleted ?? 0) + (s?.updated ?? 0),
    children: s?.children ?? {},
    batches: s?.batchesDone ?? 0,
    step: s?.step ?? 0,
    steps: rec?.cutoffs.length ?? 0,
    plan,
    lanes: (s?.lanes ?? []).map((l) => ({ done: l.done, at: l.after?.ts ?? l.after?.key ?? null, size: l.size })),
  };
}
