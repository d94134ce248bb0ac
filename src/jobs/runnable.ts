import { InputError } from '../config.js';
import { parseCleanupParams } from '../keys/policy.js';
import { parseRefreshParams } from '../oidc/config.js';
import { parsePurgeParams } from './params.js';
import { JOBS } from './registry.js';
import type { PurgeInput, PurgeParams } from './types.js';

/** The flags of `maint run`, as parsed by commander. */
export interface RunFlags {
  dryRun?: boolean;
  batchSize?: number;
  asOf?: string;
  provider?: string[];
}

const FLAG_NAMES: Record<keyof RunFlags, string> = { dryRun: '--dry-run', batchSize: '--batch-size', asOf: '--as-of', provider: '--provider' };

/** A job `maint run` can start: which workflow runs it and how flags become its (validated) input. */
export interface RunnableJob {
  name: string;
  description: string;
  workflowType: 'batchedPurge' | 'keypairCleanup' | 'ensureScopes' | 'refreshOidcJwks';
  flags: ReadonlyArray<keyof RunFlags>;
  input(flags: RunFlags, trigger: string): unknown;
}

const purgeJobs: RunnableJob[] = JOBS.map((job) => ({
  name: job.name,
  description: job.description,
  workflowType: 'batchedPurge',
  flags: ['dryRun', 'batchSize', 'asOf'],
  input(flags, trigger): PurgeInput {
    const params: Partial<PurgeParams> = {
      ...(flags.dryRun ? { dryRun: true } : {}),
      ...(flags.batchSize !== undefined ? { batchSize: flags.batchSize } : {}),
      ...(flags.asOf !== undefined ? { asOf: flags.asOf } : {}),
    };
    parsePurgeParams(params);
    return { job: job.name, params, trigger };
  },
}));

/** Every job `maint run` dispatches, purges first. Key rotation and the report have their own commands. */
export const RUNNABLE_JOBS: readonly RunnableJob[] = [
  ...purgeJobs,
  {
    name: 'keypair-cleanup',
    description: 'Withdraw retired signing keys whose tokens have expired; delete inactive ones past the retention',
    workflowType: 'keypairCleanup',
    flags: ['dryRun'],
    input(flags, trigger) {
      const params = flags.dryRun ? { dryRun: true } : {};
      parseCleanupParams(params);
      return { params, trigger };
    },
  },
  {
    name: 'scopes',
    description: 'Ensure the default scopes exist: base, image_upload, event_management, admin',
    workflowType: 'ensureScopes',
    flags: ['dryRun'],
    input: (flags, trigger) => ({ params: flags.dryRun ? { dryRun: true } : {}, trigger }),
  },
  {
    name: 'refresh-jwks',
    description: "Fetch each configured OIDC provider's JWKS; keep the last good copy when a fetch fails",
    workflowType: 'refreshOidcJwks',
    flags: ['provider'],
    input(flags, trigger) {
      const params = flags.provider?.length ? { providers: flags.provider } : {};
      parseRefreshParams(params);
      return { params, trigger };
    },
  },
];

export function findRunnableJob(name: string): RunnableJob {
  const job = RUNNABLE_JOBS.find((j) => j.name === name);
  if (!job) throw new InputError('job', `unknown job "${name}"; allowed: ${RUNNABLE_JOBS.map((j) => j.name).join(', ')}`);
  return job;
}

/** Refuses flags the job does not take, naming the jobs that do: a flag must never be silently ignored. */
export function checkFlags(job: RunnableJob, flags: RunFlags): void {
  for (const key of Object.keys(FLAG_NAMES) as Array<keyof RunFlags>) {
    if (flags[key] === undefined || job.flags.includes(key)) continue;
    const takers = RUNNABLE_JOBS.filter((j) => j.flags.includes(key)).map((j) => j.name);
    throw new InputError(FLAG_NAMES[key], `not accepted by ${job.name}; accepted by: ${takers.join(', ')}`);
  }
}

export function jobWorkflowId(job: string, at: Date = new Date()): string {
  return `maint-${job}-${at.toISOString().replace(/[:.]/g, '-')}`;
}
