import type { Client } from '@temporalio/client';
import { loadCatalogue } from '../../src/settings/index.js';
import { startJob, type StartedJob, type StartJobRequest } from '../../src/start-job.js';

/** Starts a job of the test environment's catalogue: the built-in jobs and the rules of its MAINT_CONFIG, if set. */
export function start(client: Client, request: StartJobRequest): Promise<StartedJob> {
  return startJob(client, request, loadCatalogue());
}

/** The handle of a job started as `start` does. */
export async function startHandle(client: Client, request: StartJobRequest): Promise<StartedJob['handle']> {
  return (await start(client, request)).handle;
}
