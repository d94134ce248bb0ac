import type { Command } from 'commander';
import { BATCH_SIZE } from '../../jobs/params.js';
import { JOBS } from '../../jobs/registry.js';
import { RUNNABLE_JOBS } from '../../jobs/runnable.js';
import { table } from '../format.js';

export function registerJobs(program: Command): void {
  program
    .command('jobs')
    .description('list the jobs this service can run')
    .option('--json', 'print JSON')
    .action((flags: { json?: boolean }) => {
      const purge = (name: string) => JOBS.find((j) => j.name === name);
      if (flags.json) {
        const list = RUNNABLE_JOBS.map((j) => ({ ...(purge(j.name) ?? { name: j.name, description: j.description }), workflowType: j.workflowType, flags: j.flags }));
        process.stdout.write(JSON.stringify(list) + '\n');
        return;
      }
      process.stdout.write(
        table(
          ['job', 'table', 'matches', 'dependents', 'batch size', 'description'],
          RUNNABLE_JOBS.map((j) => {
            const p = purge(j.name);
            if (!p) return [j.name, '-', '-', '-', '-', j.description];
            return [
              p.name,
              p.rule.table,
              `${p.rule.timestampColumn} < now${p.rule.retentionMs ? ` - ${p.rule.retentionMs / 86_400_000}d` : ''}`,
              p.rule.children.map((c) => c.table).join(', '),
              BATCH_SIZE.default,
              p.description,
            ];
          }),
        ) +
          '\n\nalso: maint keys rotate (key rotation), maint report (health report)\n',
      );
    });
}
