import { randomUUID } from 'node:crypto';
import type { Client, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { Catalogue, jobAction, type JobEntry } from './catalogue/index.js';
import { loadConfigFile } from './jobs/config-file.js';
import { runSearchAttributes } from './search-attributes.js';
import { checkTaskQueue, checkTrigger, checkWorkflowId } from './validate.js';

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

/**
 * Starts any job of the catalogue: validates everything first (nothing is started on bad input), then starts its
 * workflow with the same id, search attributes and memo for every job. A singleton job (key rotation) joins its
 * running execution instead of racing it. The catalogue defaults to the built-in jobs plus the config file's rules.
 */
export async function startJob(client: Client, request: StartJobRequest, catalogue: Catalogue = new Catalogue(loadConfigFile())): Promise<StartedJob> {
  const job = catalogue.find(request.job);
  const params = request.params ?? {};
  const action = jobAction(job, params, request.trigger);
  checkStartFields(request);
  // The server does not say whether it started or joined; the memo of the running execution does.
  const startRequest = randomUUID();
  const handle = await client.workflow.start(action.workflowType, {
    taskQueue: request.taskQueue,
    workflowId: request.workflowId ?? job.singleton?.workflowId ?? jobWorkflowId(job.name),
    args: action.args,
    ...(job.singleton ? { workflowIdConflictPolicy: 'USE_EXISTING', workflowIdReusePolicy: 'ALLOW_DUPLICATE' } : { workflowIdReusePolicy: 'REJECT_DUPLICATE' }),
    typedSearchAttributes: runSearchAttributes(job.name, params.dryRun === true, request.trigger),
    memo: { parameters: params, startRequest },
  });
  if (!job.singleton) return { job, handle, runId: handle.firstExecutionRunId, joined: false };
  const described = await handle.describe();
  return { job, handle, runId: described.runId, joined: described.memo?.startRequest !== startRequest };
}
