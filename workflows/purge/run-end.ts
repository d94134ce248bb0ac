import { ApplicationFailure, CancellationScope, isCancellation, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../../activities/index.js';
import type { StartRunInput } from '../../activities/purge/index.js';
import type { Progress, PurgeParams, PurgeResult, RetentionRule } from '../../src/purge/types.js';
import { errorMessage } from '../job-run.js';

/*
 * What both versions of the batched purge share: the current loop (`batched-purge.ts`) and the one kept for the
 * histories it recorded (`batched-purge-v1.ts`). Each helper issues exactly the commands the code it replaced
 * issued, in the same order, so the histories of either version replay.
 */

/** The earlier version's batch activity: one batch a task, no heartbeat. Its options are part of its histories. */
export function v1BatchActivities(batchTimeoutSeconds: number) {
  return proxyActivities<Activities>({
    startToCloseTimeout: `${batchTimeoutSeconds} seconds`,
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 20 },
  });
}

/** The current version's lane runs. */
export function laneActivities(batchTimeoutSeconds: number) {
  return proxyActivities<Activities>({
    // A batch is meant to take a fraction of a second; its statement timeout bounds it, and its heartbeat
    // tells within seconds when its worker died, so another worker retries it at once.
    startToCloseTimeout: `${batchTimeoutSeconds + 10} seconds`,
    heartbeatTimeout: '3 seconds',
    retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 20 },
  });
}

/** The start of a run's audit record, as both versions write it; the current one adds what a continued run checks. */
export function startRecord(runId: string, job: string, params: PurgeParams, trigger: string, cutoff: string, startedAtMs: number): StartRunInput {
  const parameters = { ...params };
  return { runId, workflowId: workflowInfo().workflowId, job, parameters, trigger, dryRun: params.dryRun, cutoff, startedAt: new Date(startedAtMs).toISOString() };
}

/** A multi-step job (or an update step) reports its counts per step, by the steps' names. */
export function stepNamesOf(steps: RetentionRule[]): { stepNames?: string[] } {
  return steps.length > 1 || steps[0]?.action?.type === 'update' ? { stepNames: steps.map((rule) => rule.name ?? rule.table) } : {};
}

/**
 * Closes a run's record. Not cancellable: a cancelled run's record is written too. `phase` is what the progress
 * query answers meanwhile.
 */
export function finishing<T>(setPhase: (phase: Progress['phase']) => void, close: () => Promise<T>): Promise<T> {
  return CancellationScope.nonCancellable(async () => {
    setPhase('finishing');
    const result = await close();
    setPhase('done');
    return result;
  });
}

/** A run stopped by an error: recorded as cancelled or failed; a failure ends the run for good, not retried. */
export async function endOnError(err: unknown, finish: (status: PurgeResult['status'], error?: string) => Promise<unknown>): Promise<never> {
  if (isCancellation(err)) {
    await finish('cancelled');
    throw err;
  }
  await finish('failed', errorMessage(err));
  throw ApplicationFailure.nonRetryable(`purge failed: ${errorMessage(err)}`, 'PurgeFailed');
}
