import { InputError } from '../kernel/errors.js';
import { DAY_MS } from '../kernel/time.js';
import { BUILT_IN_PURGES } from './presets/index.js';
import { DJANGO_PARAMS, type ForeignKeyCatalog, type JobDefinition, type PurgeParams, type RetentionRule } from './types.js';

/** The jobs among the built-in purges that take an option, for an error that says where it applies. */
function takers(has: (job: JobDefinition) => unknown): string {
  return BUILT_IN_PURGES.filter(has).map((j) => j.name).join(', ');
}

/**
 * The job's steps with the run's `days` and `types` applied; rejects options the job does not take. A job whose
 * steps depend on the database's foreign keys builds them from `catalog` (the worker reads it); without one (a
 * client checking flags) its default shape is checked.
 */
export function applyJobParams(job: JobDefinition, params: PurgeParams, catalog?: ForeignKeyCatalog): RetentionRule[] {
  for (const key of DJANGO_PARAMS) {
    if (params[key] !== undefined && !job.djangoParams?.includes(key)) {
      throw new InputError(key, `job ${job.name} takes no ${key}; jobs that do: ${takers((j) => j.djangoParams?.includes(key))}`);
    }
  }
  const base = job.stepsFromCatalog && catalog ? job.stepsFromCatalog(catalog, params, job.declaredForeignKeys ?? []) : job.stepsFor ? job.stepsFor(params) : job.steps;
  const steps = base.map((s) => ({ ...s, where: [...(s.where ?? [])] }));
  if (params.days !== undefined) {
    if (!job.options?.days) throw new InputError('days', `job ${job.name} takes no --days; jobs that do: ${takers((j) => j.options?.days)}`);
    for (const i of job.options.days.steps) steps[i]!.retentionMs = params.days * DAY_MS;
  }
  if (params.types !== undefined) {
    const t = job.options?.types;
    if (!t) throw new InputError('types', `job ${job.name} takes no --types; jobs that do: ${takers((j) => j.options?.types)}`);
    const unknown = params.types.filter((x) => !t.allowed.includes(x));
    if (unknown.length) throw new InputError('types', `unknown type ${unknown.map((u) => `"${u}"`).join(', ')}; allowed: ${t.allowed.join(', ')}`);
    for (const i of t.steps) steps[i]!.where.push({ column: t.column, op: 'in', values: params.types });
  }
  return steps.map(({ where, ...rest }) => (where.length ? { ...rest, where } : rest));
}
