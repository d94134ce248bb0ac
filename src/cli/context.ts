import type { Client, QueryDefinition, WorkflowHandle } from '@temporalio/client';
import { parseAddress, parseDatabaseUrl } from '../kernel/endpoints.js';
import { InputError } from '../kernel/errors.js';
import { pgConfig } from '../db/schema.js';
import type { Settings } from '../settings/index.js';
import { readLocalEnvironment } from '../local/environment.js';
import { checkNamespace, checkTaskQueue, checkWorkflowId, int, isoTimeField, parseField } from '../kernel/validate.js';

export interface ConnectionFlags {
  address?: string;
  namespace?: string;
  taskQueue?: string;
}

/** The flags of a command that starts a workflow: wait for its result, print JSON. */
export interface StartFlags extends ConnectionFlags {
  wait?: boolean;
  json?: boolean;
}

/** What a command works with: the settings of this process (the environment, the config file), read when first asked for. */
export type SettingsSource = () => Promise<Settings>;

/** Flags first, then the settings (environment variables, a Temporal profile), then what `npm start` recorded, then defaults. */
export async function resolveTemporal(settings: Settings, flags: ConnectionFlags) {
  const { config } = settings;
  const local = await readLocalEnvironment(config.dataDir);
  // TEMPORAL_ADDRESS or a Temporal profile (as the `temporal` CLI reads them) names a server; else the local one.
  const address = flags.address !== undefined ? parseAddress(flags.address, '--address').address : config.temporalAddressExplicit ? config.temporalAddress : (local?.temporalAddress ?? config.temporalAddress);
  const namespace = flags.namespace ?? (config.temporalAddressExplicit || config.namespaceExplicit ? config.namespace : (local?.namespace ?? config.namespace));
  checkNamespace('--namespace', namespace);
  const taskQueue = flags.taskQueue ?? (config.taskQueueExplicit ? config.taskQueue : (local?.taskQueue ?? config.taskQueue));
  return { address, namespace, taskQueue, security: config.temporalSecurity };
}

/** The `--database-url` flag, else DATABASE_URL, else the database `npm start` recorded. */
async function resolveDatabaseUrl(settings: Settings, flag?: string): Promise<string> {
  if (flag) return parseDatabaseUrl(flag, '--database-url');
  const { config } = settings;
  if (config.databaseUrl) return config.databaseUrl;
  const local = await readLocalEnvironment(config.dataDir);
  if (local) return local.databaseUrl;
  throw new InputError('DATABASE_URL', 'is not set and no local environment was found; set it or run `npm start` first');
}

/** pg settings for the database a command reads: the URL resolved as above, with this tool's schema first. */
export async function commandDatabase(settings: Settings, flag: string | undefined, max: number) {
  return pgConfig(await resolveDatabaseUrl(settings, flag), settings.config.schema, { max });
}

export function parseIntFlag(name: string, min: number, max: number) {
  const schema = int({ min, max });
  return (value: string): number => parseField(name, schema, value)!;
}

/** A time flag: ISO 8601 only (a date, or a date-time with its time zone). */
export function parseTimeFlag(name: string) {
  return (value: string): Date => isoTimeField(name, value);
}

export const parseWorkflowIdFlag = (value: string): string => checkWorkflowId('--workflow-id', value);
export const parseTaskQueueFlag = (value: string): string => checkTaskQueue('--task-queue', value);

/**
 * A workflow's result, with `show` called on each answer of its `query` meanwhile, every `everyMs` (an answer missed
 * between continue-as-new runs is skipped: the next one catches up).
 */
export async function whileRunning<R, A>(handle: WorkflowHandle, query: QueryDefinition<A>, everyMs: number, show: (answer: A) => void): Promise<R> {
  const result = handle.result() as Promise<R>;
  let finished = false;
  const poll = (async () => {
    while (!finished) {
      const answer = await handle.query(query).catch(() => undefined);
      if (answer !== undefined) show(answer);
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  try {
    return await result;
  } finally {
    finished = true;
    await poll;
  }
}

export interface WaitingOn {
  client: Client;
  handle: WorkflowHandle;
  taskQueue: string;
  namespace: string;
}

/**
 * Runs `fn`; a workflow that failed becomes one line on stderr with its reason (the activity's own message, not
 * "Activity task failed") and exit code 1, not a stack trace. With `waitingOn`, says on stderr when no worker
 * picks the workflow up.
 */
export async function reportingWorkflowFailure(label: string, workflowId: string, fn: () => Promise<void>, waitingOn?: WaitingOn): Promise<void> {
  const stopWatch = waitingOn ? (await import('./worker-watch.js')).warnWhenNoWorker(waitingOn.client, waitingOn.handle, waitingOn) : undefined;
  try {
    await fn();
  } catch (err) {
    // Loaded only on failure: the client library is heavy and `maint --help` must answer at once.
    const [{ WorkflowFailedError }, { failureReason }] = await Promise.all([import('@temporalio/client'), import('./errors.js')]);
    if (!(err instanceof WorkflowFailedError)) throw err;
    process.stderr.write(`${label} ${workflowId} did not complete: ${failureReason(err.cause ?? err)}\n`);
    process.exitCode = 1;
  } finally {
    stopWatch?.();
  }
}
