import { InputError } from '../config.js';
import { parseCleanupParams, parseRotationParams } from '../keys/policy.js';
import { parseRefreshParams } from '../oidc/config.js';
import { parsePurgeParams } from './params.js';
import { allJobs, applyJobParams, type JobDefinition } from './registry.js';
import type { PurgeInput, PurgeParams } from './types.js';

/** The flags of `maint run`, as parsed by commander. */
export interface RunFlags {
  dryRun?: boolean;
  batchSize?: number;
  asOf?: string;
  days?: number;
  types?: string[];
  provider?: string[];
  refreshTokenExpireSeconds?: number;
  dotVersion?: string;
  parallel?: number;
}

const FLAG_NAMES: Record<keyof RunFlags, string> = {
  dryRun: '--dry-run',
  batchSize: '--batch-size',
  asOf: '--as-of',
  days: '--days',
  types: '--types',
  provider: '--provider',
  refreshTokenExpireSeconds: '--refresh-token-expire-seconds',
  dotVersion: '--dot-version',
  parallel: '--parallel',
};

/** A job `maint run` can start: which workflow runs it and how flags become its (validated) input. */
export interface RunnableJob {
  name: string;
  description: string;
  workflowType: 'batchedPurge' | 'keypairCleanup' | 'ensureScopes' | 'refreshOidcJwks';
  flags: ReadonlyArray<keyof RunFlags>;
  input(flags: RunFlags, trigger: string): unknown;
  /** The retention rules behind a purge job. */
  purge?: JobDefinition;
}

function purgeParams(flags: RunFlags): Partial<PurgeParams> {
  return {
    ...(flags.dryRun ? { dryRun: true } : {}),
    ...(flags.batchSize !== undefined ? { batchSize: flags.batchSize } : {}),
    ...(flags.asOf !== undefined ? { asOf: flags.asOf } : {}),
    ...(flags.days !== undefined ? { days: flags.days } : {}),
    ...(flags.types !== undefined ? { types: flags.types } : {}),
    ...(flags.refreshTokenExpireSeconds !== undefined ? { refreshTokenExpireSeconds: flags.refreshTokenExpireSeconds } : {}),
    ...(flags.dotVersion !== undefined ? { dotVersion: flags.dotVersion } : {}),
    ...(flags.parallel !== undefined ? { parallel: flags.parallel } : {}),
  };
}

function purgeJob(job: JobDefinition): RunnableJob {
  return {
    name: job.name,
    description: job.description,
    workflowType: 'batchedPurge',
    flags: ['dryRun', 'batchSize', 'asOf', 'parallel', ...(job.options?.days ? (['days'] as const) : []), ...(job.options?.types ? (['types'] as const) : []), ...(job.djangoParams ?? [])],
    purge: job,
    input(flags, trigger): PurgeInput {
      const params = purgeParams(flags);
      applyJobParams(job, parsePurgeParams(params));
      return { job: job.name, params, trigger };
    },
  };
}

const OTHER_JOBS: readonly RunnableJob[] = [
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

/** Every job `maint run` dispatches: the purges (built-in and custom rules) first. */
export function runnableJobs(): RunnableJob[] {
  return [...allJobs().map(purgeJob), ...OTHER_JOBS];
}

export function findRunnableJob(name: string): RunnableJob {
  const all = runnableJobs();
  const job = all.find((j) => j.name === name);
  if (!job) throw new InputError('job', `unknown job "${name}"; allowed: ${all.map((j) => j.name).join(', ')}`);
  return job;
}

/** Refuses flags the job does not take, naming the jobs that do: a flag must never be silently ignored. */
export function checkFlags(job: RunnableJob, flags: RunFlags): void {
  for (const key of Object.keys(FLAG_NAMES) as Array<keyof RunFlags>) {
    if (flags[key] === undefined || job.flags.includes(key)) continue;
    const takers = runnableJobs().filter((j) => j.flags.includes(key)).map((j) => j.name);
    throw new InputError(FLAG_NAMES[key], `not accepted by ${job.name}; accepted by: ${takers.join(', ')}`);
  }
}

export function jobWorkflowId(job: string, at: Date = new Date()): string {
  return `maint-${job}-${at.toISOString().replace(/[:.]/g, '-')}`;
}

/** Jobs only schedules start (they have their own commands): the rotation check and the health report. */
const SCHEDULED_ONLY: Record<string, { workflowType: string; validate(params: Record<string, unknown>): void }> = {
  'key-rotation': { workflowType: 'keyRotation', validate: (p) => void parseRotationParams(p) },
  'health-report': {
    workflowType: 'healthReport',
    validate: (p) => {
      if (Object.keys(p).length) throw new InputError('params', 'health-report takes no parameters');
    },
  },
};

export function schedulableJobNames(): string[] {
  return [...runnableJobs().map((j) => j.name), ...Object.keys(SCHEDULED_ONLY)];
}

/**
 * What starting `name` with `params` means for Temporal: the workflow type and its arguments, validated.
 * Used by schedules, whose params are the workflow's own parameter object.
 */
export function jobAction(name: string, params: Record<string, unknown>, trigger?: string): { workflowType: string; args: unknown[] } {
  const only = SCHEDULED_ONLY[name];
  if (only) {
    only.validate(params);
    return { workflowType: only.workflowType, args: [{ ...(Object.keys(params).length ? { params } : {}), ...(trigger ? { trigger } : {}) }] };
  }
  const job = findRunnableJob(name);
  if (job.purge) {
    applyJobParams(job.purge, parsePurgeParams(params));
    return { workflowType: 'batchedPurge', args: [{ job: job.name, params, ...(trigger ? { trigger } : {}) }] };
  }
  if (job.name === 'keypair-cleanup') parseCleanupParams(params);
  if (job.name === 'refresh-jwks') parseRefreshParams(params);
  if (job.name === 'scopes' && Object.keys(params).some((k) => k !== 'dryRun')) throw new InputError('params', 'scopes takes only dryRun');
  return { workflowType: job.workflowType, args: [{ params, ...(trigger ? { trigger } : {}) }] };
}
