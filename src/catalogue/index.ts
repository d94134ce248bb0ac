import { InputError } from '../kernel/errors.js';
import { BUILT_IN_PURGES } from '../purge/presets/index.js';
import type { ForeignKeyDeclaration, JobDefinition } from '../purge/types.js';
import { type ScheduleDeclaration, JOB_SCHEDULES } from './schedules.js';
import { RUN_FLAGS, type JobEntry, type RunFlag } from './entry.js';
import { OTHER_JOBS } from './jobs.js';
import { purgeEntry } from './purges.js';

export { RUN_FLAGS, WORKFLOW_NAMES, type JobEntry, type RunFlag, type RunFlags, type WorkflowName } from './entry.js';

/**
 * Every job this service runs: the built-in purges, the custom rules of the config file (read and checked by the
 * settings, src/settings/), then the jobs with workflows of their own. Built by whoever needs it from what it was
 * given, and handed on: nothing else lists the jobs.
 */
export class Catalogue {
  readonly entries: readonly JobEntry[];

  /** `declaredForeignKeys`: the config file's `foreignKeys:`, for the purges whose steps follow the catalog's. */
  constructor(customRules: readonly JobDefinition[] = [], declaredForeignKeys: readonly ForeignKeyDeclaration[] = []) {
    const purges = [...BUILT_IN_PURGES, ...customRules].map((j) => (j.stepsFromCatalog && declaredForeignKeys.length ? { ...j, declaredForeignKeys } : j));
    const jobs = [...purges.map(purgeEntry), ...OTHER_JOBS];
    this.entries = jobs.map((j) => ({ ...j, schedules: JOB_SCHEDULES[j.name] ?? [] }));
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
