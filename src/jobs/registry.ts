import { InputError } from '../config.js';
import type { RetentionRule } from './types.js';

export interface JobDefinition {
  name: string;
  description: string;
  /** The workflow that runs this job; every deleting job is the one batched purge. */
  workflowType: 'batchedPurge';
  rule: RetentionRule;
}

/** The purge jobs this service knows. Each is a rule run by the one batched-purge workflow. */
export const JOBS: readonly JobDefinition[] = [
  {
    name: 'purge-expired-tokens',
    description: 'Delete outstanding (refresh) tokens whose expires_at is in the past, with their blacklist rows',
    workflowType: 'batchedPurge',
    rule: {
      table: 'outstanding_token',
      primaryKey: 'id',
      timestampColumn: 'expires_at',
      retentionMs: 0,
      children: [{ table: 'blacklisted_token', foreignKey: 'token_id' }],
    },
  },
];

export function jobNames(): string[] {
  return JOBS.map((j) => j.name);
}

export function findJob(name: string): JobDefinition {
  const job = JOBS.find((j) => j.name === name);
  if (!job) throw new InputError('job', `unknown job "${name}"; allowed: ${jobNames().join(', ')}`);
  return job;
}

/** What starting `job` means for Temporal: the workflow type and its arguments. */
export function jobAction(name: string, params: Record<string, unknown>, trigger?: string): { workflowType: string; args: unknown[] } {
  const job = findJob(name);
  return { workflowType: job.workflowType, args: [{ job: job.name, params, ...(trigger ? { trigger } : {}) }] };
}
