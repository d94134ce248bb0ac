import type { Command } from 'commander';
import { BATCH_SIZE } from '../../jobs/params.js';
import type { JobDefinition } from '../../jobs/registry.js';
import type { RunnableJob } from '../../jobs/runnable.js';
import type { RetentionRule } from '../../jobs/types.js';
import { describeRelation, isRelationCondition } from '../../jobs/relations.js';

function describeStep(r: RetentionRule): string {
  const age = r.retentionMs ? ` - ${r.retentionMs / 86_400_000}d` : '';
  const what = r.action?.type === 'update' ? `update ${Object.keys(r.action.set).join(', ')}` : 'delete';
  const deps = r.children.length ? ` (+ ${r.children.map((c) => (c.onDelete === 'set-null' ? `${c.table}.${c.foreignKey}=NULL` : c.table)).join(', ')})` : '';
  const conds = (r.where ?? []).map((c) => {
    if (isRelationCondition(c)) return describeRelation(c);
    if ('value' in c) return `${c.column} ${c.op === 'eq' ? '=' : '<>'} ${JSON.stringify(c.value)}`;
    if ('values' in c) return `${c.column} in (${c.values.join(', ')})`;
    return `${c.column} ${c.op.replace('_', ' ')}`;
  });
  return `${what} ${r.table} where ${[`${r.timestampColumn} ${r.cutoffInclusive ? '<=' : '<'} now${age}`, ...conds].join(' and ')}${deps}`;
}

function flags(j: RunnableJob): string {
  const p: JobDefinition | undefined = j.purge;
  return j.flags
    .map((f) => {
      if (f === 'dryRun') return '--dry-run';
      if (f === 'batchSize') return `--batch-size (${p?.defaultBatchSize ?? BATCH_SIZE.default})`;
      if (f === 'asOf') return '--as-of';
      if (f === 'days') return `--days (${p?.options?.days?.default}: ${p?.options?.days?.meaning})`;
      if (f === 'types') return `--types (${p?.options?.types?.allowed.join(',')})`;
      if (f === 'refreshTokenExpireSeconds') return '--refresh-token-expire-seconds (unset: no refresh token deleted)';
      if (f === 'dotVersion') return '--dot-version (required: e.g. 1.7, 2.4, 3.0)';
      return '--provider NAME';
    })
    .join(' ');
}

export function registerJobs(program: Command): void {
  program
    .command('jobs')
    .description('list the jobs this service can run, with their steps, defaults and flags')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const { runnableJobs } = await import('../../jobs/runnable.js');
      const jobs = runnableJobs();
      if (opts.json) {
        const list = jobs.map((j) => ({ ...(j.purge ?? { name: j.name, description: j.description }), workflowType: j.workflowType, flags: j.flags }));
        process.stdout.write(JSON.stringify(list) + '\n');
        return;
      }
      const blocks = jobs.map((j) =>
        [
          j.name + (j.purge?.preset ? `  [preset: ${j.purge.preset}]` : '') + (j.purge?.custom ? '  [custom rule]' : ''),
          `  ${j.description}`,
          ...(j.purge?.matches ? [`  matches: ${j.purge.matches}`] : []),
          ...(j.purge?.steps ?? []).map((r, i) => `  step ${i + 1}: ${describeStep(r)}`),
          ...(j.purge ? [] : [`  workflow: ${j.workflowType}`]),
          `  flags: ${flags(j) || '-'}`,
        ].join('\n'),
      );
      process.stdout.write(blocks.join('\n\n') + '\n\nalso: maint keys rotate (key rotation), maint report (health report)\n');
    });
}
