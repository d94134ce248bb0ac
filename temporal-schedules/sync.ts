import { createHash } from 'node:crypto';
import { ScheduleNotFoundError, type Client, type ScheduleDescription, type ScheduleOptions } from '@temporalio/client';
import type { Catalogue } from '../src/catalogue/index.js';
import { jobAction } from '../src/start-job.js';
import { parseDuration } from './overrides.js';
import { MANAGED_BY } from '../src/temporal/labels.js';
import type { ScheduleDeclaration } from '../src/catalogue/schedules.js';

export interface CompiledSchedule {
  options: ScheduleOptions;
  fingerprint: string;
}

/** The schedule a declaration asks for, with a fingerprint of everything sync compares. */
export function compileSchedule(d: ScheduleDeclaration, taskQueue: string, catalogue: Catalogue): CompiledSchedule {
  const params = d.params ?? {};
  const action = jobAction(catalogue.find(d.job), params, { trigger: `schedule:${d.id}`, scheduled: true });
  const essentials = {
    spec: { cron: d.cron ?? [], every: d.every ?? null, timezone: d.timezone, jitter: d.jitter ?? null },
    action: { workflowType: action.workflowType, args: action.args, taskQueue },
    policies: { overlap: d.overlap, catchupWindow: d.catchupWindow, pauseOnFailure: d.pauseOnFailure },
  };
  const fingerprint = createHash('sha256').update(JSON.stringify(essentials)).digest('hex').slice(0, 16);
  const options: ScheduleOptions = {
    scheduleId: d.id,
    spec: {
      ...(d.cron ? { cronExpressions: d.cron } : {}),
      ...(d.every ? { intervals: [{ every: parseDuration('every', d.every) }] } : {}),
      timezone: d.timezone,
      ...(d.jitter ? { jitter: parseDuration('jitter', d.jitter) } : {}),
    },
    action: {
      type: 'startWorkflow',
      workflowType: action.workflowType,
      args: action.args,
      taskQueue,
      // The server appends the scheduled time, so every run has its own id.
      workflowId: d.id,
      typedSearchAttributes: action.typedSearchAttributes,
      memo: { ...action.memo, scheduleFingerprint: fingerprint },
    },
    policies: { overlap: d.overlap, catchupWindow: parseDuration('catchupWindow', d.catchupWindow), pauseOnFailure: d.pauseOnFailure },
    state: { paused: false, note: d.note },
    memo: { managedBy: MANAGED_BY, job: d.job },
  };
  return { options, fingerprint };
}

export type PlanStep =
  | { op: 'create'; id: string }
  | { op: 'update'; id: string; keepPause: boolean }
  | { op: 'unpause'; id: string }
  | { op: 'delete'; id: string }
  | { op: 'unchanged'; id: string; paused: boolean; note?: string }
  | { op: 'skip-foreign'; id: string };

async function describeOrNull(client: Client, id: string): Promise<ScheduleDescription | null> {
  try {
    return await client.schedule.getHandle(id).describe();
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return null;
    throw err;
  }
}

function isManaged(memo: Record<string, unknown> | undefined): boolean {
  return memo?.managedBy === MANAGED_BY;
}

/** Ids of the schedules on the server that this tool manages. */
async function managedScheduleIds(client: Client): Promise<string[]> {
  const ids: string[] = [];
  for await (const s of client.schedule.list()) if (isManaged(s.memo)) ids.push(s.scheduleId);
  return ids;
}

export interface SyncOptions {
  taskQueue: string;
  /** The jobs the declarations name. */
  catalogue: Catalogue;
  /** Unpause schedules an operator paused. Default: keep their pause and note. */
  resetPauses?: boolean;
  dryRun?: boolean;
}

/**
 * Makes the server match the declarations: creates what is missing, updates what changed, deletes managed
 * schedules no longer declared, leaves everyone else's schedules alone, and keeps an operator's pause.
 */
export async function syncSchedules(client: Client, declarations: ScheduleDeclaration[], opts: SyncOptions): Promise<PlanStep[]> {
  const plan: PlanStep[] = [];
  const compiled = new Map(declarations.map((d) => [d.id, compileSchedule(d, opts.taskQueue, opts.catalogue)]));
  for (const d of declarations) {
    const current = await describeOrNull(client, d.id);
    if (!current) {
      plan.push({ op: 'create', id: d.id });
      continue;
    }
    if (!isManaged(current.memo)) {
      plan.push({ op: 'skip-foreign', id: d.id });
      continue;
    }
    const same = current.action.memo?.scheduleFingerprint === compiled.get(d.id)!.fingerprint;
    const paused = current.state.paused;
    if (!same) plan.push({ op: 'update', id: d.id, keepPause: paused && !opts.resetPauses });
    else if (paused && opts.resetPauses) plan.push({ op: 'unpause', id: d.id });
    else plan.push({ op: 'unchanged', id: d.id, paused, note: current.state.note });
  }
  for (const id of await managedScheduleIds(client)) {
    if (!compiled.has(id)) plan.push({ op: 'delete', id });
  }
  if (opts.dryRun) return plan;

  for (const step of plan) {
    const handle = client.schedule.getHandle(step.id);
    if (step.op === 'create') {
      await client.schedule.create(compiled.get(step.id)!.options);
    } else if (step.op === 'update') {
      const { options } = compiled.get(step.id)!;
      await handle.update((prev) => ({
        spec: options.spec,
        action: options.action,
        policies: options.policies,
        state: step.keepPause ? { paused: true, note: prev.state.note } : { paused: false, note: options.state?.note },
      }));
    } else if (step.op === 'unpause') {
      await handle.unpause(compiled.get(step.id)!.options.state?.note);
    } else if (step.op === 'delete') {
      await handle.delete();
    }
  }
  return plan;
}

export function describePlan(plan: PlanStep[]): string[] {
  return plan.map((s) => {
    switch (s.op) {
      case 'create':
        return `create     ${s.id}`;
      case 'update':
        return `update     ${s.id}${s.keepPause ? ' (stays paused)' : ''}`;
      case 'unpause':
        return `unpause    ${s.id}`;
      case 'delete':
        return `delete     ${s.id} (no longer declared)`;
      case 'unchanged':
        return `unchanged  ${s.id}${s.paused ? ` (paused: ${s.note ?? ''})` : ''}`;
      case 'skip-foreign':
        return `skip       ${s.id} (exists but is not managed by ${MANAGED_BY}; left alone)`;
    }
  });
}
