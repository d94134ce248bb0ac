import { Client, Connection, WorkflowIdReusePolicy } from '@temporalio/client';
import { applyJobParams, findJob } from './jobs/registry.js';
import { runSearchAttributes } from './search-attributes.js';
import { parsePurgeParams } from './jobs/params.js';
import type { PurgeParams } from './jobs/types.js';
import { checkFlags, findRunnableJob, jobAction, jobWorkflowId, type RunFlags } from './jobs/runnable.js';
import { checkTaskQueue, checkTrigger, checkWorkflowId } from './validate.js';

export interface ClientOptions {
  address: string;
  namespace: string;
  connectTimeoutMs?: number;
}

export async function connectClient(opts: ClientOptions): Promise<Client> {
  const connection = await Connection.connect({ address: opts.address, connectTimeout: opts.connectTimeoutMs ?? 5_000 });
  return new Client({ connection, namespace: opts.namespace });
}

/** True when a Temporal frontend answers at `address`. */
export async function temporalAnswers(address: string, timeoutMs = 2_000): Promise<boolean> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address, connectTimeout: timeoutMs });
    await connection.workflowService.getSystemInfo({});
    return true;
  } catch {
    return false;
  } finally {
    await connection?.close().catch(() => undefined);
  }
}

export function purgeWorkflowId(job: string, at: Date = new Date()): string {
  return `maint-${job}-${at.toISOString().replace(/[:.]/g, '-')}`;
}

export interface StartPurgeOptions {
  job: string;
  params: Partial<PurgeParams>;
  taskQueue: string;
  trigger: string;
  workflowId?: string;
}

/** The fields every start shares, bounded before anything is sent (the audit row's columns are varchar(255)). */
export function checkStartFields(opts: { taskQueue: string; trigger: string; workflowId?: string }): void {
  checkTaskQueue('taskQueue', opts.taskQueue);
  checkTrigger('trigger', opts.trigger);
  if (opts.workflowId !== undefined) checkWorkflowId('workflowId', opts.workflowId);
}

/** Validates everything first (nothing is started on bad input), then starts the batched purge. */
export async function startPurge(client: Client, opts: StartPurgeOptions) {
  applyJobParams(findJob(opts.job), parsePurgeParams(opts.params));
  checkStartFields(opts);
  const action = jobAction(opts.job, opts.params, opts.trigger);
  return client.workflow.start(action.workflowType, {
    taskQueue: opts.taskQueue,
    workflowId: opts.workflowId ?? purgeWorkflowId(opts.job),
    workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    args: action.args,
    typedSearchAttributes: runSearchAttributes(opts.job, Boolean(opts.params.dryRun), opts.trigger),
    memo: { parameters: opts.params },
  });
}

export interface StartJobOptions {
  job: string;
  flags: RunFlags;
  taskQueue: string;
  trigger: string;
  workflowId?: string;
}

/** Starts any job of `maint run` through its entry in the dispatch table, after validating everything. */
export async function startJob(client: Client, opts: StartJobOptions) {
  const job = findRunnableJob(opts.job);
  checkFlags(job, opts.flags);
  const input = job.input(opts.flags, opts.trigger);
  checkStartFields(opts);
  const handle = await client.workflow.start(job.workflowType, {
    taskQueue: opts.taskQueue,
    workflowId: opts.workflowId ?? jobWorkflowId(job.name),
    workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    args: [input],
    typedSearchAttributes: runSearchAttributes(job.name, Boolean(opts.flags.dryRun), opts.trigger),
    memo: { parameters: (input as { params?: unknown }).params ?? {} },
  });
  return { job, handle };
}

/** Starts the health report; its result is the report. */
export async function startReport(client: Client, opts: { taskQueue: string; trigger: string; workflowId?: string }) {
  checkStartFields(opts);
  return client.workflow.start('healthReport', {
    taskQueue: opts.taskQueue,
    workflowId: opts.workflowId ?? jobWorkflowId('health-report'),
    args: [{ trigger: opts.trigger }],
    typedSearchAttributes: runSearchAttributes('health-report', false, opts.trigger),
  });
}
