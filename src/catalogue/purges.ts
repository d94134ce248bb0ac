import { givenPurgeParams, parsePurgeParams } from '../purge/params.js';
import { applyJobParams } from '../purge/rules.js';
import type { JobDefinition } from '../purge/types.js';
import { BUDGET_FLAGS, type JobEntry } from './entry.js';

/** A purge's entry: its rules, run by the one batched-purge workflow. */
export function purgeEntry(job: JobDefinition): Omit<JobEntry, 'schedules'> {
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
    flags: ['dryRun', 'batchSize', 'asOf', 'parallel', 'vacuum', 'maxRows', 'maxDuration', 'maxFraction', ...BUDGET_FLAGS, ...(job.options?.days ? (['days'] as const) : []), ...(job.options?.types ? (['types'] as const) : []), ...(job.djangoParams ?? [])],
    purge: job,
  };
}
