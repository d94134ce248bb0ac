/**
 * The package's public client (`import { startJob } from 'auth-maintenance/client'`): what a script needs to
 * trigger the maintenance jobs the way `maint run` and the schedules do. `npm run build` compiles it to dist/.
 */
import type { Client } from '@temporalio/client';
import type { Catalogue } from './catalogue/index.js';
import { loadSettings } from './settings/index.js';
import { connectClient } from './temporal/connect.js';

export { Catalogue, type JobEntry } from './catalogue/index.js';
export { ROTATION_WORKFLOW_ID } from './keys/types.js';
export { loadCatalogue } from './settings/index.js';
export { startJob, prepareStart, jobWorkflowId, type StartJobRequest, type StartedJob } from './start-job.js';
export { connectClient, type ClientOptions } from './temporal/connect.js';
export { InputError } from './kernel/errors.js';
export type { PurgeResult, Progress } from './purge/types.js';
export type { RotationResult, ScheduledRotationResult, SweepResult } from './keys/types.js';
export type { RefreshResult } from './oidc/types.js';
export type { ScopesResult } from './scopes.js';
export type { HealthReport } from './health/types.js';

/**
 * A client for the Temporal server the environment names, as the worker and the `temporal` CLI read it
 * (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, a Temporal profile, API key, TLS), the task queue the worker polls, and the
 * jobs (the built-in ones and the config file's rules) to start with `startJob`.
 */
export async function connectFromEnvironment(env?: NodeJS.ProcessEnv): Promise<{ client: Client; taskQueue: string; catalogue: Catalogue }> {
  const { config, catalogue } = loadSettings(env);
  const client = await connectClient({ address: config.temporalAddress, namespace: config.namespace, security: config.temporalSecurity });
  return { client, taskQueue: config.taskQueue, catalogue };
}
