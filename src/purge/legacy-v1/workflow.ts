/*
 * FROZEN: the batched purge as it was before planned walks and lanes (legacy v1). It runs only when a history it
 * recorded replays, or when a chain it began (a genuine continue-as-new carrying its state) goes on; a new start
 * never reaches it (workflows/purge/batched-purge.ts refuses a carried state on a fresh run). Its commands must stay
 * exactly as they were: change nothing here, and nothing it imports, except as docs/versioning.md says (retiring it
 * once no open execution of its form remains). It holds its own copies of every helper it uses, so a change meant
 * for the live purge cannot reach it; it imports only the Temporal workflow API, the kernel and types.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  continueAsNew,
  defineQuery,
  isCancellation,
  patched,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { addCounts } from '../../kernel/counts.js';
import type { MatchCount, Progress, PurgeParams, PurgeResult, RetentionRule } from '../types.js';
import type { LegacyBatchInput, LegacyBatchResult, LegacyCarriedState, LegacyPurgeInput, LegacyResolvedJob } from './types.js';

/** The activities it schedules, as it calls them (the live purge activities keep taking these inputs). */
export interface LegacyActivities {
  resolveJob(input: { job: string; params?: unknown }): Promise<LegacyResolvedJob>;
  startRun(input: { runId: string; workflowId: string; job: string; parameters: Record<string, unknown>; trigger: string; dryRun: boolean; cutoff: string; startedAt: string }): Promise<void>;
  countMatching(input: { rule: RetentionRule; cutoff: string; more?: Array<{ rule: RetentionRule; cutoff: string }> }): Promise<MatchCount>;
  purgeBatch(input: LegacyBatchInput): Promise<LegacyBatchResult>;
  finishRun(input: { runId: string; status: PurgeResult['status']; dryRun: boolean; matched: number | null; finishedAt: string; error?: string; stepNames?: string[] }): Promise<Omit<PurgeResult, 'job' | 'dryRun' | 'cutoff'>>;
}

const progressQuery = defineQuery<Progress>('progress');

/** Short activities: validation, audit records, counts. */
const short = proxyActivities<LegacyActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 10 },
});

/** Bounds of the adaptive batch size. */
const ADAPTIVE_BATCH = { min: 100, max: 50_000 } as const;

/** The next batch size so a batch takes about `targetMs`: at most doubling or halving per step. */
export function nextBatchSize(current: number, durationMs: number, targetMs: number): number {
  if (targetMs <= 0) return current;
  const factor = Math.min(2, Math.max(0.5, targetMs / Math.max(durationMs, 1)));
  return Math.min(ADAPTIVE_BATCH.max, Math.max(ADAPTIVE_BATCH.min, Math.round(current * factor)));
}

function messageOf(err: unknown): string {
  if (err instanceof ActivityFailure && err.cause) return err.cause.message;
  return err instanceof Error ? err.message : String(err);
}

/** The steps of a resolved job; histories of the single-rule form replay as one step. */
function stepsOf(resolved: LegacyResolvedJob): RetentionRule[] {
  return resolved.steps ?? (resolved.rule ? [resolved.rule] : []);
}

export async function legacyBatchedPurge(input: LegacyPurgeInput): Promise<PurgeResult> {
  const runId = workflowInfo().firstExecutionRunId;
  let state: LegacyCarriedState | undefined = input.carried;
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
    const resolved = await short.resolveJob({ job: input.job, params: input.params });
    const startedAtMs = Date.now();
    const reference = resolved.params.asOf ? Date.parse(resolved.params.asOf) : startedAtMs;
    const cutoffs = stepsOf(resolved).map((r) => new Date(reference - r.retentionMs).toISOString());
    const scheduledBy = workflowInfo()
      .typedSearchAttributes.getAll()
      .find((p) => p.key.name === 'TemporalScheduledById');
    const trigger = input.trigger ?? (scheduledBy ? `schedule:${String(scheduledBy.value)}` : undefined) ?? 'manual';
    state = { resolved, trigger, cutoff: cutoffs[0]!, cutoffs, runTime: new Date(reference).toISOString(), step: 0, startedAtMs, nextBatchNo: 0, deleted: 0, updated: 0, children: {}, matched: null };
  }
  const s: LegacyCarriedState = state;
  const params: PurgeParams = s.resolved.params;
  const steps = stepsOf(s.resolved);
  const cutoffs = s.cutoffs ?? [s.cutoff];
  // One batch a task, no heartbeat: these options are part of its histories.
  const batches = proxyActivities<LegacyActivities>({
    startToCloseTimeout: `${params.batchTimeoutSeconds} seconds`,
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 20 },
  });
  // A multi-step job (or an update step) reports its counts per step, by the steps' names.
  const stepNames = steps.length > 1 || steps[0]?.action?.type === 'update' ? { stepNames: steps.map((rule) => rule.name ?? rule.table) } : {};

  // Not cancellable: a cancelled run's record is written too.
  const finish = (status: PurgeResult['status'], error?: string): Promise<PurgeResult> =>
    CancellationScope.nonCancellable(async () => {
      phase = 'finishing';
      const done = await short.finishRun({ runId, status, dryRun: params.dryRun, matched: s.matched, finishedAt: new Date().toISOString(), error, ...stepNames });
      phase = 'done';
      const result: PurgeResult = { ...done, job: s.resolved.job, dryRun: params.dryRun, cutoff: s.cutoff };
      // Dry runs delete nothing: report what would go.
      return params.dryRun ? { ...result, children: s.children } : result;
    });

  let continueNow = false;
  try {
    if (s.matched === null) {
      const parameters = { ...params };
      await short.startRun({ runId, workflowId: workflowInfo().workflowId, job: s.resolved.job, parameters, trigger: s.trigger, dryRun: params.dryRun, cutoff: s.cutoff, startedAt: new Date(s.startedAtMs).toISOString() });
      phase = 'counting';
      const count =
        steps.length === 1
          ? await short.countMatching({ rule: steps[0]!, cutoff: cutoffs[0]! })
          : await short.countMatching({ rule: steps[0]!, cutoff: cutoffs[0]!, more: steps.slice(1).map((rule, i) => ({ rule, cutoff: cutoffs[i + 1]! })) });
      s.matched = count.matched;
      if (params.dryRun) s.children = count.children;
    }
    if (params.dryRun) return await finish('completed');

    phase = 'deleting';
    let batchesThisRun = 0;
    // Runs recorded before keyset batches replay without them.
    const keyset = patched('keyset-batches');
    while ((s.step ?? 0) < steps.length) {
      if (CancellationScope.current().consideredCancelled) throw new CancelledFailure('purge cancelled; the batches committed so far are recorded');
      const step = s.step ?? 0;
      const size = s.size ?? params.batchSize;
      // A batch that has started runs to its end even when cancellation arrives meanwhile.
      const res = await CancellationScope.nonCancellable(() =>
        batches.purgeBatch({ runId, batchNo: s.nextBatchNo, rule: steps[step]!, cutoff: cutoffs[step]!, batchSize: size, runTime: s.runTime, step, ...(keyset ? { after: s.after ?? null } : {}) }),
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
    // A run stopped by an error: recorded as cancelled or failed; a failure ends it for good.
    if (isCancellation(err)) {
      await finish('cancelled');
      throw err;
    }
    await finish('failed', messageOf(err));
    throw ApplicationFailure.nonRetryable(`purge failed: ${messageOf(err)}`, 'PurgeFailed');
  }
  if (continueNow) {
    phase = 'deleting';
    return continueAsNew<(i: LegacyPurgeInput) => Promise<PurgeResult>>({ job: input.job, trigger: s.trigger, carried: s });
  }
  return finish('completed');
}
