import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  continueAsNew,
  defineQuery,
  isCancellation,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { CarriedState, Progress, PurgeInput, PurgeResult, ResolvedJob } from '../src/jobs/types.js';

export const progressQuery = defineQuery<Progress>('progress');

const bookkeeping = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 10 },
});

function addCounts(into: Record<string, number>, add: Record<string, number>): Record<string, number> {
  const out = { ...into };
  for (const [k, v] of Object.entries(add)) out[k] = (out[k] ?? 0) + v;
  return out;
}

/** Where a scheduled run came from, when the schedule is what started it. */
function scheduleTrigger(): string | undefined {
  const attr = workflowInfo().typedSearchAttributes;
  const byId = attr.getAll().find((p) => p.key.name === 'TemporalScheduledById');
  return byId ? `schedule:${String(byId.value)}` : undefined;
}

function errorMessage(err: unknown): string {
  if (err instanceof ActivityFailure && err.cause) return err.cause.message;
  return err instanceof Error ? err.message : String(err);
}

/**
 * The one batched purge: every deleting job is a retention rule run by this loop. The cutoff is fixed once
 * (first run of the chain) and carried through continue-as-new; each batch is a retried activity whose
 * counts come from the ledger, so they are exact after any retry or crash.
 */
export async function batchedPurge(input: PurgeInput): Promise<PurgeResult> {
  const info = workflowInfo();
  const runId = info.firstExecutionRunId;
  let state: CarriedState | undefined = input.carried;
  let phase: Progress['phase'] = state ? 'deleting' : 'starting';

  setHandler(progressQuery, () => ({
    job: state?.resolved.job ?? input.job,
    dryRun: state?.resolved.params.dryRun ?? Boolean(input.params?.dryRun),
    phase,
    cutoff: state?.cutoff ?? null,
    matched: state?.matched ?? null,
    deleted: state?.deleted ?? 0,
    children: state?.children ?? {},
    batches: state?.nextBatchNo ?? 0,
  }));

  if (!state) {
    const resolved: ResolvedJob = await bookkeeping.resolveJob({ job: input.job, params: input.params });
    const startedAtMs = Date.now();
    const reference = resolved.params.asOf ? Date.parse(resolved.params.asOf) : startedAtMs;
    const cutoff = new Date(reference - resolved.rule.retentionMs).toISOString();
    const trigger = input.trigger ?? scheduleTrigger() ?? 'manual';
    state = { resolved, trigger, cutoff, startedAtMs, nextBatchNo: 0, deleted: 0, children: {}, matched: null };
  }
  const s: CarriedState = state;
  const { rule, params } = s.resolved;
  const batches = proxyActivities<Activities>({
    startToCloseTimeout: `${params.batchTimeoutSeconds} seconds`,
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 20 },
  });

  const finish = (status: PurgeResult['status'], error?: string) =>
    CancellationScope.nonCancellable(async () => {
      phase = 'finishing';
      const done = await bookkeeping.finishRun({ runId, status, dryRun: params.dryRun, matched: s.matched, finishedAt: new Date().toISOString(), error });
      phase = 'done';
      const result: PurgeResult = { ...done, job: s.resolved.job, dryRun: params.dryRun, cutoff: s.cutoff };
      // Dry runs delete nothing: report what would go.
      return params.dryRun ? { ...result, children: s.children } : result;
    });

  let continueNow = false;
  try {
    if (s.matched === null) {
      await bookkeeping.startRun({
        runId,
        workflowId: info.workflowId,
        job: s.resolved.job,
        parameters: { ...params },
        trigger: s.trigger,
        dryRun: params.dryRun,
        cutoff: s.cutoff,
        startedAt: new Date(s.startedAtMs).toISOString(),
      });
      phase = 'counting';
      const count = await bookkeeping.countMatching({ rule, cutoff: s.cutoff });
      s.matched = count.matched;
      if (params.dryRun) s.children = count.children;
    }
    if (params.dryRun) return await finish('completed');

    phase = 'deleting';
    let batchesThisRun = 0;
    for (;;) {
      if (CancellationScope.current().consideredCancelled) {
        throw new CancelledFailure('purge cancelled; the batches committed so far are recorded');
      }
      // A batch that has started runs to its end even when cancellation arrives meanwhile.
      const res = await CancellationScope.nonCancellable(() =>
        batches.purgeBatch({ runId, batchNo: s.nextBatchNo, rule, cutoff: s.cutoff, batchSize: params.batchSize }),
      );
      s.nextBatchNo += 1;
      s.deleted += res.deleted;
      s.children = addCounts(s.children, res.children);
      batchesThisRun += 1;
      // Fewer than a full batch: no unlocked matching rows are left.
      if (res.deleted < params.batchSize) break;
      if (batchesThisRun >= params.batchesPerRun || workflowInfo().continueAsNewSuggested) {
        continueNow = true;
        break;
      }
    }
  } catch (err) {
    if (isCancellation(err)) {
      await finish('cancelled');
      throw err;
    }
    await finish('failed', errorMessage(err));
    throw ApplicationFailure.nonRetryable(`purge failed: ${errorMessage(err)}`, 'PurgeFailed');
  }
  if (continueNow) {
    phase = 'deleting';
    return continueAsNew<typeof batchedPurge>({ job: input.job, trigger: s.trigger, carried: s });
  }
  return finish('completed');
}
