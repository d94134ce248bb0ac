import { ActivityCancellationType, ApplicationFailure, CancellationScope, CancelledFailure, isCancellation, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../../activities/index.js';
import type { AftermathInput } from '../../activities/purge/aftermath.js';
import type { StartRunInput } from '../../src/db/run-record.js';
import type { PurgeAftermath } from '../../src/purge/aftermath.js';
import type { Progress, PurgeContinuation, PurgeParams, PurgeResult, RetentionRule } from '../../src/purge/types.js';
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

/** Every table a rule changes rows of: its own, its dependents' (at any depth) and its cascade's. */
export function tablesOf(steps: RetentionRule[]): string[] {
  const out = new Set<string>();
  const children = (list: RetentionRule['children']) => {
    for (const c of list) {
      out.add(c.table);
      children(c.children ?? []);
    }
  };
  for (const rule of steps) {
    out.add(rule.table);
    children(rule.children);
    for (const e of rule.cascade?.edges ?? []) out.add(e.table);
  }
  return [...out];
}

/** What the aftermath of a run is read from: its steps as planned, whether it walked them all, what it estimated and left. */
export function aftermathInput(runId: string, steps: RetentionRule[], state: PurgeContinuation): AftermathInput {
  return {
    runId,
    steps: state.plans.map((p, i) => ({ table: steps[i]!.table, timestampColumn: steps[i]!.timestampColumn, strategy: p.strategy })),
    tables: tablesOf(steps),
    complete: state.step >= steps.length,
    estimatedAtStart: state.matched,
    leftLocked: state.leftLocked,
  };
}

/** The VACUUM at a purge's end: as long as it takes, heartbeating; a cancel of the run cancels it, and is waited for. */
const vacuuming = proxyActivities<Activities>({
  startToCloseTimeout: '12 hours',
  heartbeatTimeout: '30 seconds',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 3 },
});

/**
 * VACUUM (ANALYZE) of the tables the run changed (`vacuum: true`), its outcome added to the aftermath. A failed
 * VACUUM is reported there and leaves the run completed (its rows are deleted); a cancel is recorded and ends the run.
 */
export async function vacuumAfter(runId: string, a: PurgeAftermath, keep: (a: PurgeAftermath) => void): Promise<PurgeAftermath> {
  const tables = a.tables.filter((t) => t.changed > 0).map((t) => ({ table: t.table, changed: t.changed }));
  if (!tables.length) return a;
  try {
    const v = await vacuuming.vacuumTables({ runId, tables });
    return { ...a, vacuum: { durationMs: v.durationMs, walBytes: v.walBytes }, tables: a.tables.map((t) => (v.tables[t.table] ? { ...t, vacuumed: v.tables[t.table] } : t)) };
  } catch (err) {
    if (isCancellation(err) || CancellationScope.current().consideredCancelled) {
      keep({ ...a, vacuum: { cancelled: true } });
      throw err;
    }
    return { ...a, vacuum: { error: errorMessage(err) } };
  }
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
