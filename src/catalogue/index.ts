import { InputError } from '../kernel/errors.js';
import { customJobs } from '../purge/custom-rules.js';
import { BATCH_SIZE, givenPurgeParams, parsePurgeParams } from '../purge/params.js';
import type { JobDefinition } from '../purge/types.js';
import { renderPurgeResult } from '../cli/render.js';
import type { PurgeResult } from '../purge/types.js';
import type { SearchAttributePair } from '@temporalio/common';
import type { ScheduleDeclaration } from '../../temporal-schedules/declarations.js';
import { runSearchAttributes } from '../temporal/search-attributes.js';
import { RUN_FLAGS, workflowArgs, type JobEntry, type RunFlag } from './entry.js';
import { OTHER_JOBS } from './jobs.js';
import { applyJobParams, PURGE_JOBS } from '../purge/presets/index.js';

export type { JobEntry, RunFlag, RunFlags, WorkflowName } from './entry.js';
export { ROTATION_WORKFLOW_ID } from '../keys/types.js';
export { applyJobParams } from '../purge/presets/index.js';

/** A purge's entry: its rules, run by the one batched-purge workflow. */
function purgeEntry(job: JobDefinition): JobEntry {
  const d = job.options?.days;
  const t = job.options?.types;
  return {
    name: job.name,
    description: job.description,
    workflow: 'batchedPurge',
    parseParams(params) {
      const given = givenPurgeParams(params);
      // The job's own options (days, types, the preset's version) are checked against its rules.
      applyJobParams(job, parsePurgeParams(given));
      return given;
    },
    flags: ['dryRun', 'batchSize', 'asOf', 'parallel', ...(d ? (['days'] as const) : []), ...(t ? (['types'] as const) : []), ...(job.djangoParams ?? [])],
    flagHelp: {
      batchSize: `--batch-size (${job.defaultBatchSize ?? BATCH_SIZE.default})`,
      ...(d ? { days: `--days (${d.default}: ${d.meaning})` } : {}),
      ...(t ? { types: `--types (${t.allowed.join(',')})` } : {}),
      refreshTokenExpireSeconds: '--refresh-token-expire-seconds (unset: no refresh token deleted)',
      dotVersion: '--dot-version (required: e.g. 1.7, 2.4, 3.0)',
    },
    render: (r) => renderPurgeResult(r as PurgeResult),
    schedules: job.schedules ?? [],
    purge: job,
  };
}

/**
 * Every job this service runs: the built-in purges, the custom rules of the config file, then the jobs with
 * workflows of their own. Built once from the settings and handed to whatever needs it (no module state).
 */
export class Catalogue {
  readonly entries: readonly JobEntry[];

  constructor(configFile: unknown = {}) {
    const custom = customJobs(configFile, PURGE_JOBS.map((j) => j.name));
    this.entries = [...[...PURGE_JOBS, ...custom].map(purgeEntry), ...OTHER_JOBS];
  }

  names(): string[] {
    return this.entries.map((e) => e.name);
  }

  /** The job named `name` among `among` (default: all); an unknown name is refused with the allowed ones. */
  find(name: string, among: readonly JobEntry[] = this.entries): JobEntry {
    const entry = among.find((e) => e.name === name);
    if (!entry) throw new InputError('job', `unknown job "${name}"; allowed: ${among.map((e) => e.name).join(', ')}`);
    return entry;
  }

  /** The retention rules of a purge job (the worker resolves a run's rules here, never from its input). */
  purge(name: string): JobDefinition {
    const job = this.entries.find((e) => e.name === name)?.purge;
    if (!job) throw new InputError('job', `unknown job "${name}"; allowed: ${this.purges().map((j) => j.name).join(', ')}`);
    return job;
  }

  purges(): JobDefinition[] {
    return this.entries.flatMap((e) => (e.purge ? [e.purge] : []));
  }

  /** The jobs `maint run` starts (the others have a command of their own). */
  runnable(): JobEntry[] {
    return this.entries.filter((e) => !e.command);
  }

  /** The schedules every job declares, before the config file's overrides. */
  schedules(): ScheduleDeclaration[] {
    return this.entries.flatMap((e) => e.schedules.map((s) => ({ ...s, job: e.name })));
  }

  /** Refuses flags the job does not take, naming the jobs that do: a flag must never be silently ignored. */
  checkFlags(entry: JobEntry, given: readonly RunFlag[]): void {
    for (const flag of given) {
      if (entry.flags.includes(flag)) continue;
      const takers = this.runnable().filter((e) => e.flags.includes(flag)).map((e) => e.name);
      throw new InputError(RUN_FLAGS[flag].flag, `not accepted by ${entry.name}; accepted by: ${takers.join(', ')}`);
    }
  }
}

export interface JobAction {
  workflowType: string;
  args: unknown[];
  /** The parameters as sent: checked and normalised. */
  params: Record<string, unknown>;
  /** What every run carries, whoever starts it: the Web UI filters on them, the memo shows the parameters. */
  typedSearchAttributes: SearchAttributePair[];
  memo: { parameters: Record<string, unknown> };
}

/**
 * What starting a job means for Temporal, for a client and for a schedule alike: the workflow, its arguments and
 * the run's labels, the parameters validated first. A schedule starts a singleton job through its joining workflow
 * (the server appends the time to a schedule's workflow ids), and leaves the trigger to the workflow, which reads
 * it from the schedule that started it.
 */
export function jobAction(entry: JobEntry, params: Record<string, unknown>, origin: { trigger: string; scheduled?: boolean }): JobAction {
  const normalised = entry.parseParams(params);
  const workflowType = origin.scheduled && entry.singleton ? entry.singleton.scheduledWorkflow : entry.workflow;
  return {
    workflowType,
    args: workflowArgs(entry, normalised, origin.scheduled ? undefined : origin.trigger),
    params: normalised,
    typedSearchAttributes: runSearchAttributes(entry.name, normalised.dryRun === true, origin.trigger),
    memo: { parameters: normalised },
  };
}

/** The built-in jobs only (no config file): for code that must not depend on where it runs. */
export const BUILT_IN = new Catalogue({});
