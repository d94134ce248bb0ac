import { ActivityFailure, ApplicationFailure, CancellationScope, isCancellation, patched, proxyActivities, sleep, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { JobRunRecord } from '../src/db/run-record.js';
import type { ScheduledStart } from '../src/temporal/schedule-origin.js';
import { notifyOutcome } from './notify.js';
import { parseField, workflowIdField } from '../src/kernel/validate.js';
import { checked } from '../src/temporal/failures.js';

/** Where a scheduled run came from, when the schedule is what started it. */
function scheduleTrigger(): string | undefined {
  const byId = workflowInfo()
    .typedSearchAttributes.getAll()
    .find((p) => p.key.name === 'TemporalScheduledById');
  return byId ? `schedule:${String(byId.value)}` : undefined;
}

/**
 * A schedule's start as the run sees it: the nominal time Temporal gave it and the spec its schedule declared (the
 * action's memo), from which the audit tells a tick from a trigger or a backfill (src/temporal/schedule-origin.ts).
 */
export function scheduledStart(): ScheduledStart | undefined {
  const info = workflowInfo();
  if (!scheduleTrigger()) return undefined;
  const at = info.typedSearchAttributes.getAll().find((p) => p.key.name === 'TemporalScheduledStartTime')?.value;
  if (!(at instanceof Date)) return undefined;
  const declared = info.memo?.scheduleDeclared;
  return { at: at.toISOString(), startedAt: info.startTime.toISOString(), ...(typeof declared === 'object' && declared !== null ? { declared: declared as ScheduledStart['declared'] } : {}) };
}

/** `scheduled` for an audit activity's input, when a schedule started the run. */
export function scheduledField(): { scheduled?: ScheduledStart } {
  const s = scheduledStart();
  return s ? { scheduled: s } : {};
}

/** The short activities: validation, run records, reads (each done well within a minute). */
export const short = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 10 },
});

/** Whether a schedule started this run (its search attribute, which a client cannot forge the way it can a trigger). */
export function startedBySchedule(): boolean {
  return scheduleTrigger() !== undefined;
}

/** Where a run came from: the caller's word, else the schedule that started it, else "manual". */
export function triggerOf(given: string | undefined): string {
  return given || (scheduleTrigger() ?? 'manual');
}

/** What an activity's failure is about: its cause; any other error is itself. */
export function causeOf(err: unknown): unknown {
  return err instanceof ActivityFailure ? err.cause : err;
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

/** Writes the run record (the audit row) of a non-purge job, then notifies; the run id is the chain's first run id, as for purges. */
export async function recordRun(r: Omit<JobRunRecord, 'runId' | 'workflowId' | 'finishedAt'>): Promise<void> {
  const info = workflowInfo();
  await short.recordJobRun({ ...r, runId: info.firstExecutionRunId, workflowId: info.workflowId, finishedAt: new Date().toISOString(), ...scheduledField() });
  await notifyOutcome(info.firstExecutionRunId);
}

export interface JobOutcome<T> {
  result: T;
  matched: number | null;
  deleted: number;
  counts: Record<string, number>;
  /** A problem worth the audit row's error column although the run completed (e.g. failed providers). */
  problem?: string | null;
}

/**
 * Runs a small job's body and writes its audit row, completed or failed. A failure surfaces with the message of
 * its cause (e.g. an invalid parameter), not as a bare "Activity task failed".
 */
export async function runJob<T>(
  meta: { job: string; parameters: Record<string, unknown>; trigger?: string; dryRun?: boolean },
  body: () => Promise<JobOutcome<T>>,
): Promise<T> {
  const startedAt = new Date().toISOString();
  const base = { job: meta.job, parameters: meta.parameters, trigger: triggerOf(meta.trigger), dryRun: meta.dryRun ?? false, startedAt };
  let outcome: JobOutcome<T>;
  try {
    outcome = await body();
  } catch (err) {
    const status = isCancellation(err) ? 'cancelled' : 'failed';
    await CancellationScope.nonCancellable(() => recordRun({ ...base, status, matched: null, deleted: 0, counts: {}, error: errorMessage(err) }));
    if (isCancellation(err)) throw err;
    const cause = causeOf(err);
    const type = cause instanceof ApplicationFailure ? (cause.type ?? 'JobFailed') : 'JobFailed';
    throw ApplicationFailure.nonRetryable(errorMessage(err), type);
  }
  await recordRun({ ...base, status: 'completed', matched: outcome.matched, deleted: outcome.deleted, counts: outcome.counts, error: outcome.problem ?? null });
  return outcome.result;
}

/**
 * A workflow's first step: its id and input checked strictly. A bad input fails the run at once and for good,
 * naming the field and what is allowed, before anything is touched (and never as a TypeError that retries).
 */
export function parseInput<T>(raw: unknown, parse: (raw: unknown) => T): T {
  return checked(() => {
    parseField('workflowId', workflowIdField, workflowInfo().workflowId);
    return parse(raw);
  });
}

/** What a refused start's audit row names: the job asked for and where the start came from, as far as they can be read. */
function askedFor(raw: unknown, job: string | undefined): { job: string; trigger: string; dryRun: boolean } {
  const r = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const asked = job ?? (typeof r.job === 'string' && r.job.length > 0 && r.job.length <= 100 ? r.job : 'unknown');
  const trigger = typeof r.trigger === 'string' && r.trigger.length > 0 && r.trigger.length <= 255 ? r.trigger : triggerOf(undefined);
  const params = (typeof r.params === 'object' && r.params !== null ? r.params : {}) as Record<string, unknown>;
  return { job: asked, trigger, dryRun: params.dryRun === true };
}

/**
 * The audit row of a run that failed at its start (a bad input, a missing table): every run is on record, with its
 * job, trigger and reason. Patch `record-refused-starts`: before it, such a run left no row.
 */
export async function refuseStart(asked: { job: string; trigger: string; dryRun?: boolean }, err: unknown): Promise<void> {
  if (!patched('record-refused-starts')) return;
  const info = workflowInfo();
  await CancellationScope.nonCancellable(async () => {
    await short.refuseRun({ runId: info.firstExecutionRunId, workflowId: info.workflowId.slice(0, 255), job: asked.job, trigger: asked.trigger, dryRun: asked.dryRun ?? false,
      // Cancelled before it started (during its check): recorded so, not as a failure.
      status: isCancellation(err) ? 'cancelled' : 'failed', error: errorMessage(err), at: new Date().toISOString(), ...scheduledField() });
    await notifyOutcome(info.firstExecutionRunId);
  });
}

/** `parseInput`, a refused input recorded (`refuseStart`). `job`: the workflow's job; a purge's is read from its input. */
export async function acceptInput<T>(job: string | undefined, raw: unknown, parse: (raw: unknown) => T): Promise<T> {
  try {
    return parseInput(raw, parse);
  } catch (err) {
    await refuseStart(askedFor(raw, job), err);
    throw err;
  }
}
