import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker, bundleWorkflowCode, type WorkflowBundleOption } from '@temporalio/worker';
import { createActivities, type FaultHooks, type KeysRuntime } from '../activities/index.js';
import { DatabaseErrorsWithoutValues } from './db/errors.js';
import type { OidcConfig } from './oidc/config.js';
import type { Orm } from './db/orm.js';
import type { Logger } from './logger.js';

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

export interface WorkerOptions {
  address: string;
  namespace: string;
  taskQueue: string;
  orm: Orm;
  logger: Logger;
  /** A prebuilt bundle (tests build it once); otherwise the workflows are bundled at start. */
  workflowBundle?: WorkflowBundleOption;
  faults?: FaultHooks;
  keys?: KeysRuntime;
  oidc?: OidcConfig;
  /** Tests that kill workers turn sticky execution off so a dead worker's sticky queue does not delay them. */
  maxCachedWorkflows?: number;
  /** Most lanes one purge may use (MAINT_MAX_PARALLEL). */
  maxParallel?: number;
}

export async function bundleWorkflows(): Promise<{ code: string }> {
  return bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietBundlerLogger });
}

const noop = () => undefined;
const quietBundlerLogger = { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: console.error };

export async function createWorker(opts: WorkerOptions): Promise<{ worker: Worker; connection: NativeConnection }> {
  const connection = await NativeConnection.connect({ address: opts.address });
  const worker = await Worker.create({
    connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowBundle: await bundleWorkflows() }),
    activities: createActivities({ orm: opts.orm, logger: opts.logger, faults: opts.faults, keys: opts.keys, oidc: opts.oidc, maxParallel: opts.maxParallel }),
    interceptors: { activity: [() => ({ inbound: new DatabaseErrorsWithoutValues() })] },
    ...(opts.maxCachedWorkflows !== undefined ? { maxCachedWorkflows: opts.maxCachedWorkflows } : {}),
    // A worker that dies leaves its workflows' tasks on its sticky queue: hand them to another worker soon.
    stickyQueueScheduleToStartTimeout: '3 seconds',
    shutdownGraceTime: '30 seconds',
  });
  return { worker, connection };
}
