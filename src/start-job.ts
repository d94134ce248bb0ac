import { randomUUID } from 'node:crypto';
import type { Client, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import type { SearchAttributePair } from '@temporalio/common';
import type { Catalogue, JobEntry } from './catalogue/index.js';
import { checkTaskQueue, checkTrigger, checkWorkflowId } from './kernel/validate.js';
import { InputError } from './kernel/errors.js';
import { runSearchAttributes } from './temporal/labels.js';

/**
 * The one way a job reaches Temporal, for a client (`maint run`, the package's client, the tests) and for a schedule
 * (temporal-schedules/sync.ts) alike: the workflow, its arguments, its search attributes and memo.
 */

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

export interface JobAction {
  workflowType: string;
  args: unknown[];
  /** The parameters as sent: checked and normalised. */
  params: Record<string, unknown>;
  /** What every run carries, whoever starts it: the Web UI filters on them, the memo shows the parameters. */
  typedSearchAttributes: SearchAttributePair[];
  memo: { parameters: Record<string, unknown> };
  /** The Web UI's summary and details of the run: what it is in one line, its parameters below (markdown). */
  staticSummary: string;
  staticDetails: string;
}

/** One line the Web UI lists a run by: the job, whether it changes anything, who started it. */
export function runSummary(job: string, params: Record<string, unknown>, trigger: string): string {
  return `${job}${params.dryRun === true ? ' (dry run)' : ''} · ${trigger}`;
}

/** The run's parameters as the Web UI's details show them. */
export function runDetails(entry: JobEntry, params: Record<string, unknown>, trigger: string): string {
  const rows = Object.entries(params).map(([k, v]) => `| \`${k}\` | \`${JSON.stringify(v)}\` |`);
  return [`**${entry.name}**: ${entry.description}`, '', `started by \`${trigger}\``, '', ...(rows.length ? ['| parameter | value |', '|---|---|', ...rows] : ['defaults for every parameter'])].join('\n');
}

/** The input a job's workflow takes for `params` and `trigger`. */
function workflowArgs(entry: JobEntry, params: Record<string, unknown>, trigger?: string): unknown[] {
  const withTrigger = trigger ? { trigger } : {};
  if (entry.purge) return [{ job: entry.name, params, ...withTrigger }];
  return [{ ...(Object.keys(params).length ? { params } : {}), ...withTrigger }];
}

/**
 * What starting a job means for Temporal, for a client and for a schedule alike: the workflow, its arguments and
 * the run's labels, the parameters validated first. A schedule starts a singleton job through its joining workflow
 * (the server appends the time to a schedule's workflow ids), and leaves the trigger to the workflow, which reads
 * it from the schedule that started it.
 */
export function jobAction(entry: JobEntry, params: Record<string, unknown>, origin: { trigger: string; scheduled?: boolean }): JobAction {
  const normalised = entry.parseParams(params);
  const workflowType = origin.scheduled && entry.singleton ? entry.singleton.scheduledWorkflow : entry.workflow;
  return {
    workflowType,
    args: workflowArgs(entry, normalised, origin.scheduled ? undefined : origin.trigger),
    params: normalised,
    typedSearchAttributes: runSearchAttributes(entry.name, normalised.dryRun === true, origin.trigger),
    memo: { parameters: normalised },
    staticSummary: runSummary(entry.name, normalised, origin.trigger),
    staticDetails: runDetails(entry, normalised, origin.trigger),
  };
}

export function jobWorkflowId(job: string, at: Date = new Date()): string {
  return `maint-${job}-${at.toISOString().replace(/[:.]/g, '-')}`;
}

/** The fields every start shares, bounded before anything is sent (the audit row's columns are varchar(255)). */
function checkStartFields(opts: { taskQueue: string; trigger: string; workflowId?: string }): void {
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
 * Checks everything a start needs (the job of `catalogue`, its parameters, the id, trigger and task queue) without
 * contacting anything: a bad input is an InputError naming the field, and nothing is started.
 */
export function prepareStart(request: StartJobRequest, catalogue: Catalogue): PreparedStart {
  const job = catalogue.find(request.job);
  const action = jobAction(job, request.params ?? {}, { trigger: request.trigger });
  checkStartFields(request);
  return { ...action, job, request };
}

/**
 * One purge of a job at a time: a real run is refused while one of the same job runs on the same task queue (one
 * deployment), naming it. Visibility answers a second or so late; the workflow itself refuses what this misses, and
 * starts that bypass this client (see `startRun` in activities/purge/).
 */
async function refuseWhileRunning(client: Client, job: string, taskQueue: string): Promise<void> {
  // A queue name a visibility query cannot quote is left to the workflow's own check.
  if (/['"\\]/.test(taskQueue)) return;
  const query = `MaintJob = '${job}' AND MaintDryRun = false AND ExecutionStatus = 'Running' AND TaskQueue = '${taskQueue}'`;
  for await (const listed of client.workflow.list({ query })) {
    // Visibility may still list a run that just ended: the server's own answer decides.
    const { status } = await client.workflow.getHandle(listed.workflowId, listed.runId).describe();
    if (status.name !== 'RUNNING') continue;
    throw new InputError('job', `${job} is already running: workflow ${listed.workflowId}; one purge of a job runs at a time: wait for it, or stop it with maint cancel ${job}`);
  }
}

/**
 * Starts a job, the same way for every job: validated first (`prepareStart`, unless given a prepared start), then
 * its workflow with the id maint-<job>-<time>, the search attributes and the memo. A singleton job (key rotation)
 * starts under its own id, or joins the execution already running instead of racing it.
 */
export async function startJob(client: Client, start: PreparedStart): Promise<StartedJob>;
export async function startJob(client: Client, start: StartJobRequest, catalogue: Catalogue): Promise<StartedJob>;
export async function startJob(client: Client, start: StartJobRequest | PreparedStart, catalogue?: Catalogue): Promise<StartedJob> {
  const { job, request, workflowType, args, typedSearchAttributes, memo, params, staticSummary, staticDetails } = 'workflowType' in start ? start : prepareStart(start, catalogue!);
  if (job.purge && params.dryRun !== true) await refuseWhileRunning(client, job.name, request.taskQueue);
  // The server does not say whether it started or joined; the memo of the running execution does.
  const startRequest = randomUUID();
  const handle = await client.workflow.start(workflowType, {
    taskQueue: request.taskQueue,
    workflowId: request.workflowId ?? job.singleton?.workflowId ?? jobWorkflowId(job.name),
    args,
    ...(job.singleton ? { workflowIdConflictPolicy: 'USE_EXISTING', workflowIdReusePolicy: 'ALLOW_DUPLICATE' } : { workflowIdReusePolicy: 'REJECT_DUPLICATE' }),
    typedSearchAttributes,
    memo: { ...memo, startRequest },
    staticSummary,
    staticDetails,
  });
  if (!job.singleton) return { job, handle, runId: handle.firstExecutionRunId, joined: false };
  const described = await handle.describe();
  return { job, handle, runId: described.runId, joined: described.memo?.startRequest !== startRequest };
}
