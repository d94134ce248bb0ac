import { ApplicationFailure, CancellationScope, CancelledFailure, isCancellation, workflowInfo } from '@temporalio/workflow';
import type { StartRunInput } from '../../src/db/run-record.js';
import type { Progress, PurgeParams, PurgeResult, RetentionRule } from '../../src/purge/types.js';
import { errorMessage, scheduledField } from '../job-run.js';

/* The run record of a live purge: its start, its per-step counts and its end, whatever stopped it. */

/** The start of a run's record; the workflow adds what a continued run checks. */
export function startRecord(runId: string, job: string, params: PurgeParams, trigger: string, cutoff: string, startedAtMs: number): StartRunInput {
  const parameters = { ...params };
  return { runId, workflowId: workflowInfo().workflowId, job, parameters, trigger, dryRun: params.dryRun, cutoff, startedAt: new Date(startedAtMs).toISOString(), ...scheduledField() };
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

/**
 * A run stopped by an error: recorded as cancelled or failed; a failure ends the run for good, not retried.
 * `cancelled`: the run was asked to stop, so whatever error ended it is recorded as the cancellation it is.
 */
export async function endOnError(err: unknown, finish: (status: PurgeResult['status'], error?: string) => Promise<unknown>, cancelled = false): Promise<never> {
  if (isCancellation(err) || cancelled) {
    await finish('cancelled', cancelled ? 'cancel requested' : undefined);
    throw isCancellation(err) ? err : new CancelledFailure('purge cancelled; the batches committed before it stopped are recorded');
  }
  await finish('failed', errorMessage(err));
  throw ApplicationFailure.nonRetryable(`purge failed: ${errorMessage(err)}`, 'PurgeFailed');
}
