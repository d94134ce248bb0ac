import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker, bundleWorkflowCode, type WorkflowBundleOption } from '@temporalio/worker';
import { createActivities, type FaultHooks, type KeysRuntime } from '../activities/index.js';
import { DatabaseErrorsWithoutValues } from './db/errors.js';
import type { OidcConfig } from './oidc/providers.js';
import type { JobMetrics } from './metrics/metrics.js';
import type { Notifier } from './notify/outbox.js';
import type { Orm } from './db/orm.js';
import type { Catalogue } from './catalogue/index.js';
import type { Logger } from './logger.js';
import type { TemporalSecurity } from './temporal/connect.js';
import { connectionOptions } from './temporal/connect.js';

// Compiled (dist/src/worker.js) next to dist/workflows/index.js; from the sources (tests, tsx) next to index.ts.
const compiled = import.meta.url.endsWith('.js');
export const WORKFLOWS_PATH = fileURLToPath(new URL(`../workflows/index.${compiled ? 'js' : 'ts'}`, import.meta.url));
/** `npm run build` bundles the workflow code once into dist/workflow-bundle.js; the compiled worker loads it. */
export const PREBUILT_BUNDLE_PATH = compiled ? fileURLToPath(new URL('../workflow-bundle.js', import.meta.url)) : undefined;

export interface WorkerOptions {
  address: string;
  /** API key, TLS, metadata from Temporal's environment configuration. */
  security?: TemporalSecurity;
  namespace: string;
  taskQueue: string;
  orm: Orm;
  /** The jobs it runs (built-in and the config file's rules), loaded once by the caller. */
  catalogue: Catalogue;
  logger: Logger;
  /** A prebuilt bundle (tests build it once); else dist/workflow-bundle.js when compiled; else bundled at start. */
  workflowBundle?: WorkflowBundleOption;
  faults?: FaultHooks;
  keys?: KeysRuntime;
  oidc?: OidcConfig;
  metrics?: JobMetrics;
  notifier?: Notifier;
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
  const connection = await NativeConnection.connect(connectionOptions(opts.address, opts.security));
  const worker = await Worker.create({
    connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    workflowBundle: opts.workflowBundle ?? (PREBUILT_BUNDLE_PATH ? { codePath: PREBUILT_BUNDLE_PATH } : await bundleWorkflows()),
    activities: createActivities({ orm: opts.orm, purges: opts.catalogue, logger: opts.logger, faults: opts.faults, keys: opts.keys, oidc: opts.oidc, maxParallel: opts.maxParallel, metrics: opts.metrics, notifier: opts.notifier }),
    interceptors: { activity: [() => ({ inbound: new DatabaseErrorsWithoutValues() })] },
    ...(opts.maxCachedWorkflows !== undefined ? { maxCachedWorkflows: opts.maxCachedWorkflows } : {}),
    // A worker that dies leaves its workflows' tasks on its sticky queue: hand them to another worker soon.
    stickyQueueScheduleToStartTimeout: '2 seconds',
    shutdownGraceTime: '30 seconds',
  });
  return { worker, connection };
}
