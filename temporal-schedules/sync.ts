import { createHash } from 'node:crypto';
import { ScheduleNotFoundError, type Client, type ScheduleDescription, type ScheduleOptions } from '@temporalio/client';
import type { Catalogue } from '../src/catalogue/index.js';
import { jobAction } from '../src/start-job.js';
import { parseDuration } from '../src/kernel/duration.js';
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
  const declared = { cron: d.cron ?? [], every: d.every ?? null, timezone: d.timezone, jitter: d.jitter ?? null, overlap: d.overlap, catchupWindow: d.catchupWindow, pauseOnFailure: d.pauseOnFailure, params };
  const essentials = {
    spec: { cron: d.cron ?? [], every: d.every ?? null, timezone: d.timezone, jitter: d.jitter ?? null },
    action: { workflowType: action.workflowType, args: action.args, taskQueue, summary: action.staticSummary, details: action.staticDetails },
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
      memo: { ...action.memo, scheduleFingerprint: fingerprint, scheduleDeclared: declared },
      staticSummary: action.staticSummary,
      staticDetails: action.staticDetails,
    },
    policies: { overlap: d.overlap, catchupWindow: parseDuration('catchupWindow', d.catchupWindow), pauseOnFailure: d.pauseOnFailure },
    state: { paused: false, note: d.note },
    memo: { managedBy: MANAGED_BY, job: d.job },
  };
  return { options, fingerprint };
}

export interface ScheduleOwner {
  namespace: string;
  taskQueue: string;
}

export type PlanStep =
  | { op: 'create'; id: string }
  | { op: 'update'; id: string; keepPause: boolean; changes: string[]; takeOver?: ScheduleOwner }
  | { op: 'unpause'; id: string }
  | { op: 'delete'; id: string }
  | { op: 'unchanged'; id: string; paused: boolean; note?: string }
  | { op: 'skip-foreign'; id: string }
  | { op: 'skip-owned'; id: string; owner: ScheduleOwner }
  | { op: 'disable'; id: string }
  | { op: 'disabled'; id: string; exists: boolean };

/** The note of a schedule the config file turns off: sync knows the pause as its own by it and lifts it when re-enabled. */
export const DISABLED_NOTE = 'disabled in the config file (enabled: false); history kept';

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

/**
 * The deployment a managed schedule belongs to. A schedule lives in one namespace, so a worker of another namespace
 * never sees it; within the namespace, the task queue its runs go to is its deployment.
 */
export function ownerOf(d: Pick<ScheduleDescription, 'action'>, namespace: string): ScheduleOwner | null {
  return d.action.type === 'startWorkflow' ? { namespace, taskQueue: d.action.taskQueue } : null;
}

function sameOwner(a: ScheduleOwner | null, b: ScheduleOwner): boolean {
  return !!a && a.namespace === b.namespace && a.taskQueue === b.taskQueue;
}

/** Ids of the schedules on the server that this tool manages for this deployment (other queues' are theirs to keep). */
async function ownScheduleIds(client: Client, me: ScheduleOwner): Promise<string[]> {
  const ids: string[] = [];
  for await (const s of client.schedule.list()) {
    if (!isManaged(s.memo)) continue;
    const d = await describeOrNull(client, s.scheduleId);
    if (d && sameOwner(ownerOf(d, me.namespace), me)) ids.push(s.scheduleId);
  }
  return ids;
}

/** What an update changes, field by field in the declaration's words (cron as written), for an operator to check first. */
export function describeChanges(current: ScheduleDescription, next: CompiledSchedule, nextTaskQueue: string): string[] {
  const changes: string[] = [];
  const before = (current.action.type === 'startWorkflow' ? current.action.memo?.scheduleDeclared : undefined) as Record<string, unknown> | undefined;
  const after = (next.options.action as { memo?: Record<string, unknown> }).memo?.scheduleDeclared as Record<string, unknown>;
  if (current.action.type === 'startWorkflow' && current.action.taskQueue !== nextTaskQueue) changes.push(`taskQueue: ${JSON.stringify(current.action.taskQueue)} -> ${JSON.stringify(nextTaskQueue)}`);
  if (!before) return [...changes, 'made by an older version that did not record its declaration: every field is rewritten'];
  for (const key of Object.keys(after)) {
    const a = JSON.stringify(before[key] ?? null);
    const b = JSON.stringify(after[key] ?? null);
    if (a !== b) changes.push(`${key}: ${a} -> ${b}`);
  }
  return changes.length ? changes : ['the runs it starts (workflow arguments or search attributes)'];
}

export interface SyncOptions {
  taskQueue: string;
  /** The jobs the declarations name. */
  catalogue: Catalogue;
  /** Unpause schedules an operator paused. Default: keep their pause and note. */
  resetPauses?: boolean;
  /** Declared schedules the config file turns off: paused with DISABLED_NOTE, never deleted. */
  disabled?: string[];
  /** Move schedules another deployment (task queue or namespace) owns to this one. Default: leave them and say so. */
  takeOver?: boolean;
  dryRun?: boolean;
}

/**
 * Makes the server match the declarations: creates what is missing, updates what changed, deletes managed
 * schedules no longer declared, leaves everyone else's schedules alone, and keeps an operator's pause.
 */
export async function syncSchedules(client: Client, declarations: ScheduleDeclaration[], opts: SyncOptions): Promise<PlanStep[]> {
  const me: ScheduleOwner = { namespace: client.options.namespace, taskQueue: opts.taskQueue };
  const plan: PlanStep[] = [];
  const compiled = new Map(declarations.map((d) => [d.id, compileSchedule(d, opts.taskQueue, opts.catalogue)]));
  const notes = new Map(declarations.map((d) => [d.id, d.note]));
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
    const owner = ownerOf(current, me.namespace);
    if (!sameOwner(owner, me) && !opts.takeOver) {
      plan.push({ op: 'skip-owned', id: d.id, owner: owner ?? { namespace: '?', taskQueue: '?' } });
      continue;
    }
    const next = compiled.get(d.id)!;
    const same = current.action.memo?.scheduleFingerprint === next.fingerprint;
    // A pause the config file made (re-enabled since) is sync's to lift; an operator's is kept.
    const paused = current.state.paused && current.state.note !== DISABLED_NOTE;
    const takeOver = sameOwner(owner, me) ? undefined : (owner ?? undefined);
    if (!same) plan.push({ op: 'update', id: d.id, keepPause: paused && !opts.resetPauses, changes: describeChanges(current, next, opts.taskQueue), ...(takeOver ? { takeOver } : {}) });
    else if (current.state.paused && (!paused || opts.resetPauses)) plan.push({ op: 'unpause', id: d.id });
    else plan.push({ op: 'unchanged', id: d.id, paused, note: current.state.note });
  }
  const disabled = new Set(opts.disabled ?? []);
  for (const id of disabled) {
    const current = await describeOrNull(client, id);
    if (!current || !isManaged(current.memo) || !sameOwner(ownerOf(current, me.namespace), me)) {
      if (!current) plan.push({ op: 'disabled', id, exists: false });
      continue;
    }
    plan.push(current.state.paused ? { op: 'disabled', id, exists: true } : { op: 'disable', id });
  }
  for (const id of await ownScheduleIds(client, me)) {
    if (!compiled.has(id) && !disabled.has(id)) plan.push({ op: 'delete', id });
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
      await handle.unpause(notes.get(step.id) || 'unpaused by schedules sync'); // an empty note would not unpause
    } else if (step.op === 'disable') {
      await handle.pause(DISABLED_NOTE);
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
        return [`update     ${s.id}${s.keepPause ? ' (stays paused)' : ''}${s.takeOver ? ` (taken over from task queue ${s.takeOver.taskQueue} in namespace ${s.takeOver.namespace})` : ''}`, ...s.changes.map((c) => `             ${c}`)].join('\n');
      case 'unpause':
        return `unpause    ${s.id}`;
      case 'delete':
        return `delete     ${s.id} (no longer declared)`;
      case 'unchanged':
        return `unchanged  ${s.id}${s.paused ? ` (paused: ${s.note ?? ''})` : ''}`;
      case 'skip-foreign':
        return `skip       ${s.id} (exists but is not managed by ${MANAGED_BY}; left alone)`;
      case 'skip-owned':
        return `skip       ${s.id} (owned by task queue ${s.owner.taskQueue} in namespace ${s.owner.namespace}; left alone: take it over with --take-over or MAINT_SCHEDULES_TAKE_OVER=true)`;
      case 'disable':
        return `pause      ${s.id} (enabled: false; its history is kept)`;
      case 'disabled':
        return `disabled   ${s.id}${s.exists ? ' (paused)' : ' (not created: enabled: false)'}`;
    }
  });
}
