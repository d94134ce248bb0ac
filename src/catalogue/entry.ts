import type { JobDefinition } from '../purge/types.js';
import type { ScheduleDefaults } from './schedules.js';

/**
 * The workflow types of the worker's bundle (workflows/index.ts), by name: the catalogue names them as strings, so
 * it depends on no workflow code; test/unit/catalogue.test.ts checks the list against the bundle's exports.
 */
export const WORKFLOW_NAMES = [
  'batchedPurge',
  'keyRotation',
  'scheduledKeyRotation',
  'signingKeyRetirement',
  'keypairCleanup',
  'ensureScopes',
  'refreshOidcJwks',
  'healthReport',
] as const;
export type WorkflowName = (typeof WORKFLOW_NAMES)[number];

/** The flags of `maint run`, by the parameter they set (one flag, one parameter; the job's schema reads the text). */
export const RUN_FLAGS = {
  dryRun: { flag: '--dry-run', param: 'dryRun' },
  batchSize: { flag: '--batch-size', param: 'batchSize' },
  asOf: { flag: '--as-of', param: 'asOf' },
  days: { flag: '--days', param: 'days' },
  types: { flag: '--types', param: 'types' },
  provider: { flag: '--provider', param: 'providers' },
  refreshTokenExpireSeconds: { flag: '--refresh-token-expire-seconds', param: 'refreshTokenExpireSeconds' },
  dotVersion: { flag: '--dot-version', param: 'dotVersion' },
  refreshTokenGracePeriodSeconds: { flag: '--refresh-token-grace-period-seconds', param: 'refreshTokenGracePeriodSeconds' },
  refreshTokenReuseProtection: { flag: '--refresh-token-reuse-protection', param: 'refreshTokenReuseProtection' },
  djangoTimeZone: { flag: '--django-time-zone', param: 'djangoTimeZone' },
  parallel: { flag: '--parallel', param: 'parallel' },
  vacuum: { flag: '--vacuum', param: 'vacuum' },
  userTable: { flag: '--user-table', param: 'userTable' },
  budget: { flag: '--budget', param: 'budget' },
  maxReplicaLag: { flag: '--max-replica-lag', param: 'maxReplicaLag' },
  maxReplicaLagBytes: { flag: '--max-replica-lag-bytes', param: 'maxReplicaLagBytes' },
  maxActiveSessions: { flag: '--max-active-sessions', param: 'maxActiveSessions' },
  sleepCoef: { flag: '--sleep-coef', param: 'sleepCoef' },
  maxProbeLatency: { flag: '--max-probe-latency', param: 'maxProbeLatency' },
  criticalReplicaLag: { flag: '--critical-replica-lag', param: 'criticalReplicaLag' },
  criticalActiveSessions: { flag: '--critical-active-sessions', param: 'criticalActiveSessions' },
  criticalFor: { flag: '--critical-for', param: 'criticalFor' },
  maxRows: { flag: '--max-rows', param: 'maxRows' },
  maxDuration: { flag: '--max-duration', param: 'maxDurationSeconds' },
  maxFraction: { flag: '--max-fraction', param: 'maxFraction' },
} as const;

/** The flags of a purge's impact budget (src/purge/budget.ts). */
export const BUDGET_FLAGS = ['budget', 'maxReplicaLag', 'maxReplicaLagBytes', 'maxActiveSessions', 'sleepCoef', 'maxProbeLatency', 'criticalReplicaLag', 'criticalActiveSessions', 'criticalFor'] as const;

export type RunFlag = keyof typeof RUN_FLAGS;
export type RunFlags = { [K in RunFlag]?: unknown };

/**
 * One job of the catalogue, as data: what it is, the workflow that runs it, its parameters, the `maint run` flags
 * it takes and the schedules a deployment gets for it. How a start reaches Temporal is src/start-job.ts's; how a
 * result reads is the CLI's (src/cli/render.ts).
 */
export interface JobEntry {
  name: string;
  description: string;
  workflow: WorkflowName;
  /**
   * Validates the job's parameters, wherever they come from; throws an InputError naming the field and the
   * allowed values. Returns what a start sends: the parameters given, normalised (numbers as numbers), without
   * defaults. The workflow parses its input again at its first step: any client can start it.
   */
  parseParams(params: Record<string, unknown>): Record<string, unknown>;
  /** The `maint run` flags the job takes (the others are refused, naming the jobs that take them). */
  flags: readonly RunFlag[];
  /** The schedules a deployment gets for it (ids, cadence, policies); the config file may override them. */
  schedules: readonly ScheduleDefaults[];
  /**
   * One run at a time under this workflow id: a second start joins the running one. Scheduled runs start a
   * small workflow that joins it the same way (a schedule would append its time to the id).
   */
  singleton?: { workflowId: string; scheduledWorkflow: WorkflowName };
  /** `maint run` does not start it; it has a command of its own (`maint keys rotate`, `maint report`). */
  command?: string;
  /** The retention rules, for purges. */
  purge?: JobDefinition;
}
