import { ActivityFailure, proxyActivities, sleep, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { JobRunRecord } from '../activities/audit.js';

/** Short bookkeeping activities (validation, audit records, reads). */
export const bookkeeping = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 10 },
});

/** Where a run came from: the caller's word, else the schedule that started it, else "manual". */
export function triggerOf(given: string | undefined): string {
  if (given) return given;
  const byId = workflowInfo()
    .typedSearchAttributes.getAll()
    .find((p) => p.key.name === 'TemporalScheduledById');
  return byId ? `schedule:${String(byId.value)}` : 'manual';
}

export function errorMessage(err: unknown): string {
  if (err instanceof ActivityFailure && err.cause) return err.cause.message;
  return err instanceof Error ? err.message : String(err);
}

/** Sleeps until an absolute time (a durable timer); returns at once when it has passed. */
export async function sleepUntil(at: string | number, summary: string): Promise<void> {
  const ms = (typeof at === 'string' ? Date.parse(at) : at) - Date.now();
  if (ms > 0) await sleep(ms, { summary });
}

/** The audit row of a non-purge job; the run id is the chain's first run id, as for purges. */
export async function audit(r: Omit<JobRunRecord, 'runId' | 'workflowId' | 'finishedAt'>): Promise<void> {
  const info = workflowInfo();
  await bookkeeping.recordJobRun({ ...r, runId: info.firstExecutionRunId, workflowId: info.workflowId, finishedAt: new Date().toISOString() });
}
