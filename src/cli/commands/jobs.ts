import type { Command } from 'commander';
import { RUN_FLAGS, type JobEntry, type RunFlag } from '../../catalogue/entry.js';
import { BATCH_SIZE } from '../../purge/params.js';
import type { SettingsSource } from '../context.js';
import type { RetentionRule } from '../../purge/types.js';
import { describeRelation, isRelationCondition } from '../../purge/relations.js';

function describeStep(r: RetentionRule): string {
  const age = r.retentionMs ? ` - ${r.retentionMs / 86_400_000}d` : '';
  const what = r.action?.type === 'update' ? `update ${Object.keys(r.action.set).join(', ')}` : 'delete';
  const deps = r.children.length ? ` (+ ${r.children.map((c) => (c.onDelete === 'set-null' ? `${c.table}.${c.foreignKey}=NULL` : c.table)).join(', ')})` : '';
  const cascade = r.cascade?.edges.length
    ? ` (+ ${[...new Set(r.cascade.edges.filter((e) => e.action === 'delete').map((e) => e.table))].join(', ')}; ${r.cascade.edges.filter((e) => e.action === 'set-null').map((e) => `${e.table}.${e.column}=NULL`).join(', ') || 'nothing unlinked'})`
    : '';
  const conds = (r.where ?? []).map((c) => {
    if (isRelationCondition(c)) return describeRelation(c);
    if ('value' in c) return `${c.column} ${c.op === 'eq' ? '=' : '<>'} ${JSON.stringify(c.value)}`;
    if ('values' in c) return `${c.column} in (${c.values.join(', ')})`;
    if (c.op === 'not_all_true') return `not (${[c.column, ...c.also].join(' and ')})`;
    return `${c.column} ${c.op.replace('_', ' ')}`;
  });
  return `${what} ${r.table} where ${[`${r.timestampColumn} ${r.cutoffInclusive ? '<=' : '<'} now${age}`, ...conds].join(' and ')}${deps}${cascade}`;
}

/** How `maint jobs` describes a flag of a job: its default or allowed values where it has them. */
function flagHelp(j: JobEntry, f: RunFlag): string {
  const d = j.purge?.options?.days;
  const t = j.purge?.options?.types;
  switch (f) {
    case 'batchSize':
      return j.purge ? `--batch-size (${j.purge.defaultBatchSize ?? BATCH_SIZE.default})` : RUN_FLAGS[f].flag;
    case 'days':
      return d ? `--days (${d.default}: ${d.meaning})` : RUN_FLAGS[f].flag;
    case 'types':
      return t ? `--types (${t.allowed.join(',')})` : RUN_FLAGS[f].flag;
    case 'refreshTokenExpireSeconds':
      return '--refresh-token-expire-seconds (unset: no refresh token deleted)';
    case 'dotVersion':
      return '--dot-version (required: e.g. 1.7, 2.4, 3.3, 3.4.1)';
    case 'refreshTokenGracePeriodSeconds':
      return '--refresh-token-grace-period-seconds (3.4.0 and later; default 0)';
    case 'refreshTokenReuseProtection':
      return '--refresh-token-reuse-protection (3.4.0 and later; default off)';
    case 'djangoTimeZone':
      return '--django-time-zone ZONE (only with USE_TZ = False: its TIME_ZONE)';
    case 'userTable':
      return '--user-table (default: found from the catalog)';
    case 'provider':
      return '--provider NAME';
    default:
      return RUN_FLAGS[f].flag;
  }
}

function flags(j: JobEntry): string {
  return j.flags.map((f) => flagHelp(j, f)).join(' ');
}

export function registerJobs(program: Command, settings: SettingsSource): void {
  program
    .command('jobs')
    .description('list the jobs this service can run, with their steps, defaults and flags')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const jobs = (await settings()).catalogue.entries;
      if (opts.json) {
        const list = jobs.map((j) => ({ ...(j.purge ?? { name: j.name, description: j.description }), workflowType: j.workflow, flags: j.flags, ...(j.command ? { command: j.command } : {}), schedules: j.schedules.map((s) => s.id) }));
        process.stdout.write(JSON.stringify(list) + '\n');
        return;
      }
      const blocks = jobs.map((j) =>
        [
          j.name + (j.purge?.preset ? `  [preset: ${j.purge.preset}]` : '') + (j.purge?.custom ? '  [custom rule]' : ''),
          `  ${j.description}`,
          ...(j.purge?.matches ? [`  matches: ${j.purge.matches}`] : []),
          ...(j.purge?.steps ?? []).map((r, i) => `  step ${i + 1}: ${describeStep(r)}`),
          ...(j.purge ? [] : [`  workflow: ${j.workflow}`]),
          j.command ? `  started by: ${j.command} (and its schedules)` : `  flags: ${flags(j) || '-'}`,
          ...(j.schedules.length ? [`  schedules: ${j.schedules.map((s) => s.id).join(', ')}`] : []),
        ].join('\n'),
      );
      process.stdout.write(blocks.join('\n\n') + '\n');
    });
}
