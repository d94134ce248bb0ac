import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker, type WorkflowBundleOption } from '@temporalio/worker';
import { createActivities, type FaultHooks } from '../activities/index.js';
import { DatabaseErrorsWithoutValues } from './db/errors.js';
import type { Orm } from './orm/index.js';
import type { KeysRuntime } from './keys/types.js';
import type { Logger } from './logger.js';
import type { JobMetrics } from './metrics/metrics.js';
import type { Notifier } from './notify/outbox.js';
import type { OidcConfig } from './oidc/providers.js';
import type { Settings } from './settings/index.js';
import { connectionOptions } from './temporal/connect.js';
import { bundleWorkflows as bundleFrom } from './temporal/workflow-bundle.js';

// Compiled (dist/src/worker.js) next to dist/workflows/index.js; from the sources (tests, tsx) next to index.ts.
const compiled = import.meta.url.endsWith('.js');
export const WORKFLOWS_PATH = fileURLToPath(new URL(`../workflows/index.${compiled ? 'js' : 'ts'}`, import.meta.url));
/** `npm run build` bundles the workflow code once into dist/workflow-bundle.js; the compiled worker loads it. */
export const PREBUILT_BUNDLE_PATH = compiled ? fileURLToPath(new URL('../workflow-bundle.js', import.meta.url)) : undefined;

export interface WorkerOptions {
  /**
   * What the worker runs with, read once by the process: the Temporal connection, namespace and task queue, the
   * jobs (built-in and the config file's rules), the lanes one purge may use (MAINT_MAX_PARALLEL), the OIDC
   * providers and the signing-key defaults.
   */
  settings: Pick<Settings, 'config' | 'catalogue'>;
  /** The server to connect to when it is not the settings' (the dev server `npm start` began). */
  address?: string;
  /** A task queue of its own instead of the settings' (tests). */
  taskQueue?: string;
  orm: Orm;
  logger: Logger;
  /** The key-encryption key and policy; by default MAINT_KEK (if set) and the settings' policy. */
  keys?: KeysRuntime;
  /** The OIDC providers; by default the settings'. */
  oidc?: OidcConfig;
  metrics?: JobMetrics;
  notifier?: Notifier;
  /** A prebuilt bundle (tests build it once); else dist/workflow-bundle.js when compiled; else bundled at start. */
  workflowBundle?: WorkflowBundleOption;
  faults?: FaultHooks;
  /** Tests that kill workers turn sticky execution off so a dead worker's sticky queue does not delay them. */
  maxCachedWorkflows?: number;
}

/** The longest a workflow task may run without yielding before the SDK fails it as a deadlock (its default). */
export const WORKFLOW_TASK_CPU_LIMIT = '5 seconds';

export async function bundleWorkflows(): Promise<{ code: string }> {
  return bundleFrom(WORKFLOWS_PATH);
}

export async function createWorker(opts: WorkerOptions): Promise<{ worker: Worker; connection: NativeConnection }> {
  const { config, catalogue } = opts.settings;
  const connection = await NativeConnection.connect(connectionOptions(opts.address ?? config.temporalAddress, config.temporalSecurity));
  const worker = await Worker.create({
    connection,
    namespace: config.namespace,
    taskQueue: opts.taskQueue ?? config.taskQueue,
    workflowBundle: opts.workflowBundle ?? (PREBUILT_BUNDLE_PATH ? { codePath: PREBUILT_BUNDLE_PATH } : await bundleWorkflows()),
    activities: createActivities({
      orm: opts.orm,
      purges: catalogue,
      maxParallel: config.maxParallel,
      brakes: config.brakes,
      walCompression: config.walCompression,
      ...(config.throttleQuery ? { throttleQuery: config.throttleQuery } : {}),
      logger: opts.logger,
      keys: opts.keys ?? { ...(config.kek ? { kek: config.kek } : {}), policy: config.keyPolicy },
      oidc: opts.oidc ?? config.oidc,
      faults: opts.faults,
      metrics: opts.metrics,
      notifier: opts.notifier,
    }),
    interceptors: { activity: [() => ({ inbound: new DatabaseErrorsWithoutValues() })] },
    // Workflows run on this thread (the SDK calls it debugMode), not on a worker thread: that thread is a second V8
    // isolate and Node environment, 16 MB of RSS measured idle, for workflow tasks of a few milliseconds. The SDK
    // drops its deadlock timeout in that mode; it is set back (an option its types do not expose; SDK 1.24.0
    // worker-options.js passes it through, test/workflow-thread.test.ts holds it), so a task that never yields fails.
    debugMode: true,
    ...({ isolateExecutionTimeout: WORKFLOW_TASK_CPU_LIMIT } as object),
    ...(opts.maxCachedWorkflows !== undefined ? { maxCachedWorkflows: opts.maxCachedWorkflows } : {}),
    // A worker that dies leaves its workflows' tasks on its sticky queue: hand them to another worker soon.
    stickyQueueScheduleToStartTimeout: '2 seconds',
    shutdownGraceTime: '30 seconds',
    // A cancel reaches a running lane run with a heartbeat's answer: sent at least every second, it stops within about one.
    maxHeartbeatThrottleInterval: '1 second',
  });
  return { worker, connection };
}
