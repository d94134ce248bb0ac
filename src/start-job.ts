import { randomUUID } from 'node:crypto';
import type { Client, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { jobAction, type Catalogue, type JobAction, type JobEntry } from './catalogue/index.js';
import { loadCatalogue } from './settings/index.js';
import { checkTaskQueue, checkTrigger, checkWorkflowId } from './kernel/validate.js';

export interface StartJobRequest {
  /** A job of the catalogue (`maint jobs`). */
  job: string;
  /** The job's parameters, as a schedule or `temporal workflow start` would send them. */
  params?: Record<string, unknown>;
  taskQueue: string;
  /** Who or what starts it, recorded in the audit row and the MaintTrigger search attribute. */
  trigger: string;
  /** Default: maint-<job>-<time>; a singleton job (the rotation) always uses its own id unless one is given. */
  workflowId?: string;
}

export interface StartedJob {
  job: JobEntry;
  handle: WorkflowHandleWithFirstExecutionRunId;
  /** The run the handle points at (for a joined singleton: the run already going). */
  runId: string;
  /** True when a run of a singleton job was already going and this request joined it (its parameters unused). */
  joined: boolean;
}

export function jobWorkflowId(job: string, at: Date = new Date()): string {
  return `maint-${job}-${at.toISOString().replace(/[:.]/g, '-')}`;
}

/** The fields every start shares, bounded before anything is sent (the audit row's columns are varchar(255)). */
export function checkStartFields(opts: { taskQueue: string; trigger: string; workflowId?: string }): void {
  checkTaskQueue('taskQueue', opts.taskQueue);
  checkTrigger('trigger', opts.trigger);
  if (opts.workflowId !== undefined) checkWorkflowId('workflowId', opts.workflowId);
}

/** A start checked in full and ready to send: the job, its workflow and arguments, the run's labels. */
export interface PreparedStart extends JobAction {
  job: JobEntry;
  request: StartJobRequest;
}

/**
 * Checks everything a start needs (the job, its parameters, the id, trigger and task queue) without contacting
 * anything: a bad input is an InputError naming the field, and nothing is started. The catalogue defaults to the
 * built-in jobs plus the config file's rules.
 */
export function prepareStart(request: StartJobRequest, catalogue: Catalogue = loadCatalogue()): PreparedStart {
  const job = catalogue.find(request.job);
  const action = jobAction(job, request.params ?? {}, { trigger: request.trigger });
  checkStartFields(request);
  return { ...action, job, request };
}

/**
 * Starts any job of the catalogue, the same way for every job: validated first (`prepareStart`, unless given a
 * prepared start), then its workflow with the id maint-<job>-<time>, the search attributes and the memo. A singleton
 * job (key rotation) starts under its own id, or joins the execution already running instead of racing it.
 */
export async function startJob(client: Client, start: StartJobRequest | PreparedStart, catalogue?: Catalogue): Promise<StartedJob> {
  const { job, request, workflowType, args, typedSearchAttributes, memo } = 'workflowType' in start ? start : prepareStart(start, catalogue);
  // The server does not say whether it started or joined; the memo of the running execution does.
  const startRequest = randomUUID();
  const handle = await client.workflow.start(workflowType, {
    taskQueue: request.taskQueue,
    workflowId: request.workflowId ?? job.singleton?.workflowId ?? jobWorkflowId(job.name),
    args,
    ...(job.singleton ? { workflowIdConflictPolicy: 'USE_EXISTING', workflowIdReusePolicy: 'ALLOW_DUPLICATE' } : { workflowIdReusePolicy: 'REJECT_DUPLICATE' }),
    typedSearchAttributes,
    memo: { ...memo, startRequest },
  });
  if (!job.singleton) return { job, handle, runId: handle.firstExecutionRunId, joined: false };
  const described = await handle.describe();
  return { job, handle, runId: described.runId, joined: described.memo?.startRequest !== startRequest };
}
