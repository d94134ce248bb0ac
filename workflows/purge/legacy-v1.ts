import { CancellationScope, CancelledFailure, continueAsNew, patched, setHandler, workflowInfo } from '@temporalio/workflow';
import { nextBatchSize } from '../../src/purge/batch-size.js';
import type { CarriedState, Progress, PurgeResult, ResolvedJob, RetentionRule } from '../../src/purge/types.js';
import { addCounts, bookkeeping, progressQuery, scheduleTrigger } from '../job-run.js';
import { endOnError, finishing, startRecord, stepNamesOf, v1BatchActivities } from './run-end.js';

/** The input of the earlier version: its continuations carried the resolved rules. */
export interface LegacyPurgeInput {
  job: string;
  params?: Record<string, unknown>;
  trigger?: string;
  carried?: CarriedState;
}

/** The steps of a resolved job; histories of the single-rule form replay as one step. */
function stepsOf(resolved: ResolvedJob): RetentionRule[] {
  return resolved.steps ?? (resolved.rule ? [resolved.rule] : []);
}

/**
 * The batched purge as it was before planned walks and lanes. Kept, unchanged in its commands, so histories
 * it recorded replay, and so a chain it began (a genuine continue-as-new carrying its state) finishes as it
 * began. New runs take the current loop (`batched-purge.ts`).
 */
export async function legacyBatchedPurge(input: LegacyPurgeInput): Promise<PurgeResult> {
  const runId = workflowInfo().firstExecutionRunId;
  let state: CarriedState | undefined = input.carried;
  let phase: Progress['phase'] = state ? 'deleting' : 'starting';

  setHandler(progressQuery, () => ({
    job: state?.resolved.job ?? input.job,
    dryRun: state?.resolved.params.dryRun ?? Boolean(input.params?.dryRun),
    phase,
    cutoff: state?.cutoff ?? null,
    matched: state?.matched ?? null,
    deleted: (state?.deleted ?? 0) + (state?.updated ?? 0),
    children: state?.children ?? {},
    batches: state?.nextBatchNo ?? 0,
    step: state?.step ?? 0,
    steps: state ? stepsOf(state.resolved).length : 0,
  }));

  if (!state) {
    const resolved: ResolvedJob = await bookkeeping.resolveJob({ job: input.job, params: input.params });
    const startedAtMs = Date.now();
    const reference = resolved.params.asOf ? Date.parse(resolved.params.asOf) : startedAtMs;
    const cutoffs = stepsOf(resolved).map((r) => new Date(reference - r.retentionMs).toISOString());
    const trigger = input.trigger ?? scheduleTrigger() ?? 'manual';
    state = {
      resolved,
      trigger,
      cutoff: cutoffs[0]!,
      cutoffs,
      runTime: new Date(reference).toISOString(),
      step: 0,
      startedAtMs,
      nextBatchNo: 0,
      deleted: 0,
      updated: 0,
      children: {},
      matched: null,
    };
  }
  const s: CarriedState = state;
  const { params } = s.resolved;
  const steps = stepsOf(s.resolved);
  const cutoffs = s.cutoffs ?? [s.cutoff];
  const batches = v1BatchActivities(params.batchTimeoutSeconds);

  const finish = (status: PurgeResult['status'], error?: string) =>
    finishing(
      (p) => (phase = p),
      async () => {
        const finishedAt = new Date().toISOString();
        const done = await bookkeeping.finishRun({ runId, status, dryRun: params.dryRun, matched: s.matched, finishedAt, error, ...stepNamesOf(steps) });
        const result: PurgeResult = { ...done, job: s.resolved.job, dryRun: params.dryRun, cutoff: s.cutoff };
        // Dry runs delete nothing: report what would go.
        return params.dryRun ? { ...result, children: s.children } : result;
      },
    );

  let continueNow = false;
  try {
    if (s.matched === null) {
      await bookkeeping.startRun(startRecord(runId, s.resolved.job, params, s.trigger, s.cutoff, s.startedAtMs));
      phase = 'counting';
      const count =
        steps.length === 1
          ? await bookkeeping.countMatching({ rule: steps[0]!, cutoff: cutoffs[0]! })
          : await bookkeeping.countMatching({ rule: steps[0]!, cutoff: cutoffs[0]!, more: steps.slice(1).map((rule, i) => ({ rule, cutoff: cutoffs[i + 1]! })) });
      s.matched = count.matched;
      if (params.dryRun) s.children = count.children;
    }
    if (params.dryRun) return await finish('completed');

    phase = 'deleting';
    let batchesThisRun = 0;
    // Runs recorded before keyset batches replay without them.
    const keyset = patched('keyset-batches');
    while ((s.step ?? 0) < steps.length) {
      if (CancellationScope.current().consideredCancelled) {
        throw new CancelledFailure('purge cancelled; the batches committed so far are recorded');
      }
      const step = s.step ?? 0;
      const size = s.size ?? params.batchSize;
      // A batch that has started runs to its end even when cancellation arrives meanwhile.
      const res = await CancellationScope.nonCancellable(() =>
        batches.purgeBatch({
          runId,
          batchNo: s.nextBatchNo,
          rule: steps[step]!,
          cutoff: cutoffs[step]!,
          batchSize: size,
          runTime: s.runTime,
          step,
          ...(keyset ? { after: s.after ?? null } : {}),
        }),
      );
      s.nextBatchNo += 1;
      s.deleted += res.deleted;
      s.updated = (s.updated ?? 0) + (res.updated ?? 0);
      s.children = addCounts(s.children, res.children);
      batchesThisRun += 1;
      if (params.targetBatchMs) s.size = nextBatchSize(size, res.durationMs, params.targetBatchMs);
      // Fewer than a full batch: no unlocked matching rows are left in this step (from the keyset position on).
      if (res.deleted + (res.updated ?? 0) < size) {
        if (keyset && s.after) {
          // One pass from the start picks up rows that were locked (skipped) when their turn came.
          s.after = null;
        } else {
          if (steps.length === 1) break;
          s.step = step + 1;
          s.after = null;
        }
      } else if (keyset) {
        s.after = res.lastTs ?? null;
      }
      if (batchesThisRun >= params.batchesPerRun || workflowInfo().continueAsNewSuggested) {
        continueNow = (s.step ?? 0) < steps.length;
        if (continueNow) break;
      }
    }
  } catch (err) {
    return endOnError(err, finish);
  }
  if (continueNow) {
    phase = 'deleting';
    return continueAsNew<(i: LegacyPurgeInput) => Promise<PurgeResult>>({ job: input.job, trigger: s.trigger, carried: s });
  }
  return finish('completed');
}
