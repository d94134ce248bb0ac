import type { Command } from 'commander';
import { BATCH_SIZE } from '../../jobs/params.js';
import { JOBS, type JobDefinition } from '../../jobs/registry.js';
import type { RetentionRule } from '../../jobs/types.js';

function describeStep(r: RetentionRule): string {
  const age = r.retentionMs ? ` - ${r.retentionMs / 86_400_000}d` : '';
  const what = r.action?.type === 'update' ? `update ${Object.keys(r.action.set).join(', ')}` : 'delete';
  const deps = r.children.length ? ` (+ ${r.children.map((c) => (c.onDelete === 'set-null' ? `${c.table}.${c.foreignKey}=NULL` : c.table)).join(', ')})` : '';
  const conds = (r.where ?? []).map((c) => {
    if ('value' in c) return `${c.column} ${c.op === 'eq' ? '=' : '<>'} ${JSON.stringify(c.value)}`;
    if ('values' in c) return `${c.column} in (${c.values.join(', ')})`;
    return `${c.column} ${c.op.replace('_', ' ')}`;
  });
  return `${what} ${r.table} where ${[`${r.timestampColumn} < now${age}`, ...conds].join(' and ')}${deps}`;
}

function flags(j: JobDefinition): string {
  const out = ['--dry-run', `--batch-size (${BATCH_SIZE.default})`];
  if (j.options?.days) out.push(`--days (${j.options.days.default}: ${j.options.days.meaning})`);
  if (j.options?.types) out.push(`--types (${j.options.types.allowed.join(',')})`);
  return out.join(' ');
}

export function registerJobs(program: Command): void {
  program
    .command('jobs')
    .description('list the jobs this service can run, with their steps, defaults and flags')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) => {
      if (opts.json) {
        process.stdout.write(JSON.stringify(JOBS) + '\n');
        return;
      }
      const blocks = JOBS.map((j) =>
        [
          j.name + (j.preset ? `  [preset: ${j.preset}]` : ''),
          `  ${j.description}`,
          ...j.steps.map((r, i) => `  step ${i + 1}: ${describeStep(r)}`),
          `  flags: ${flags(j)}`,
        ].join('\n'),
      );
      process.stdout.write(blocks.join('\n\n') + '\n');
    });
}
