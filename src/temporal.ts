import { Client, Connection, WorkflowIdReusePolicy, type ConnectionOptions } from '@temporalio/client';
import type { TemporalSecurity } from './temporal-env.js';
import { InputError } from './config.js';
import { applyJobParams, findJob } from './jobs/registry.js';
import { runSearchAttributes } from './search-attributes.js';
import { parsePurgeParams } from './jobs/params.js';
import type { PurgeParams } from './jobs/types.js';
import { checkFlags, findRunnableJob, jobAction, jobWorkflowId, type RunFlags } from './jobs/runnable.js';
import { checkTaskQueue, checkTrigger, checkWorkflowId } from './validate.js';

export interface ClientOptions {
  address: string;
  namespace: string;
  /** API key, TLS, metadata from Temporal's environment configuration. */
  security?: TemporalSecurity;
  connectTimeoutMs?: number;
}

/** Connection options for an address and its security settings; unset settings are left out. */
export function connectionOptions(address: string, security: TemporalSecurity = {}): ConnectionOptions {
  return {
    address,
    ...(security.tls !== undefined ? { tls: security.tls } : {}),
    ...(security.apiKey ? { apiKey: security.apiKey } : {}),
    ...(security.metadata ? { metadata: security.metadata } : {}),
  };
}

export async function connectClient(opts: ClientOptions): Promise<Client> {
  const connection = Connection.lazy({ ...connectionOptions(opts.address, opts.security), connectTimeout: opts.connectTimeoutMs ?? 5_000 });
  try {
    await connection.ensureConnected();
  } catch (err) {
    // Connection.connect would leave the failed channel open (see temporalAnswers).
    await connection.close().catch(() => undefined);
    throw err;
  }
  return new Client({ connection, namespace: opts.namespace });
}

/**
 * True when a Temporal frontend answers at `address`. Each probe leaves nothing behind: `Connection.connect`
 * that fails never closes its gRPC channel, and grpc-js shares connection attempts between channels through a
 * process-wide pool, so a leaked channel keeps retrying with a backoff that grows to two minutes and makes every
 * later probe of that address wait for it (the first `npm start` failed that way after a long CLI build). The
 * probe gets a channel with a pool of its own and always closes it.
 */
export async function temporalAnswers(address: string, timeoutMs = 2_000, security?: TemporalSecurity): Promise<boolean> {
  const connection = Connection.lazy({ ...connectionOptions(address, security), connectTimeout: timeoutMs, channelArgs: { 'grpc.use_local_subchannel_pool': 1 } });
  try {
    await connection.ensureConnected();
    // ensureConnected accepts any gRPC server (it ignores UNIMPLEMENTED); a Temporal frontend answers this.
    await connection.withDeadline(Date.now() + timeoutMs, () => connection.workflowService.getSystemInfo({}));
    return true;
  } catch {
    return false;
  } finally {
    await connection.close().catch(() => undefined);
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
