import type { Command } from 'commander';
import { BATCH_SIZE } from '../../jobs/params.js';
import { JOBS } from '../../jobs/registry.js';
import { table } from '../format.js';

export function registerJobs(program: Command): void {
  program
    .command('jobs')
    .description('list the jobs this service can run')
    .option('--json', 'print JSON')
    .action((flags: { json?: boolean }) => {
      if (flags.json) {
        process.stdout.write(JSON.stringify(JOBS) + '\n');
        return;
      }
      process.stdout.write(
        table(
          ['job', 'table', 'matches', 'dependents', 'batch size', 'description'],
          JOBS.map((j) => [
            j.name,
            j.rule.table,
            `${j.rule.timestampColumn} < now${j.rule.retentionMs ? ` - ${j.rule.retentionMs / 86_400_000}d` : ''}`,
            j.rule.children.map((c) => c.table).join(', '),
            BATCH_SIZE.default,
            j.description,
          ]),
        ) + '\n',
      );
    });
}
