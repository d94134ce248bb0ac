import type * as workflows from '../../workflows/index.js';
import type { JobDefinition } from '../purge/types.js';
import type { ScheduleDefaults } from '../../temporal-schedules/declarations.js';

/** A workflow of the worker's bundle, by its exported name: a typo does not compile. */
export type WorkflowName = {
  [K in keyof typeof workflows]: (typeof workflows)[K] extends (...args: never[]) => Promise<unknown> ? K : never;
}[keyof typeof workflows];

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
  parallel: { flag: '--parallel', param: 'parallel' },
} as const;

export type RunFlag = keyof typeof RUN_FLAGS;
export type RunFlags = { [K in RunFlag]?: unknown };

/**
 * One job of the catalogue: everything the CLI, the start path, the schedules and the worker need to know of
 * it. Adding a job means adding an entry (and, unless it is a purge, its workflow and activities).
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
  /** How `maint jobs` describes a flag (its default, allowed values). */
  flagHelp?: Partial<Record<RunFlag, string>>;
  /** Plain-text rendering of its result; `--json` prints the result itself. */
  render(result: unknown): string;
  /** Completed, but not all it should have done happened (a provider down): the command exits 1. */
  failed?(result: unknown): boolean;
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

/** The input a job's workflow takes for `params` and `trigger`. */
export function workflowArgs(entry: JobEntry, params: Record<string, unknown>, trigger?: string): unknown[] {
  const withTrigger = trigger ? { trigger } : {};
  if (entry.purge) return [{ job: entry.name, params, ...withTrigger }];
  return [{ ...(Object.keys(params).length ? { params } : {}), ...withTrigger }];
}

/** A schedule that never overlaps itself, in UTC unless it says otherwise. */
export function schedule(d: Omit<ScheduleDefaults, 'timezone' | 'overlap'> & Partial<ScheduleDefaults>): ScheduleDefaults {
  return { timezone: 'UTC', overlap: 'SKIP', ...d };
}
