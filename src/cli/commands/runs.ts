import type { Command } from 'commander';
import { pgConfig } from '../../db/schema.js';
import { resolveDatabaseUrl, parseIntFlag } from '../context.js';
import { formatCounts, table } from '../format.js';

interface RunsFlags {
  limit: number;
  job?: string;
  json?: boolean;
  databaseUrl?: string;
}

export function registerRuns(program: Command): void {
  program
    .command('runs')
    .description('list recent runs from the audit table')
    .option('--limit <n>', 'how many (1-1000)', parseIntFlag('--limit', 1, 1000), 20)
    .option('--job <name>', 'only this job')
    .option('--json', 'print JSON')
    .option('--database-url <url>', 'database (default: DATABASE_URL, else the local environment)')
    .action(async (flags: RunsFlags) => {
      const { default: pg } = await import('pg');
      const client = new pg.Client(pgConfig(await resolveDatabaseUrl(flags.databaseUrl)));
      await client.connect();
      try {
        const { rows } = await client.query(
          `SELECT id, workflow_id, job, trigger, dry_run, status, matched, deleted, children_deleted, batches, cutoff,
                  started_at, finished_at, duration_ms, rows_per_second, error
             FROM maintenance_run WHERE ($1::text IS NULL OR job = $1) ORDER BY started_at DESC LIMIT $2`,
          [flags.job ?? null, flags.limit],
        );
        if (flags.json) {
          process.stdout.write(JSON.stringify(rows) + '\n');
          return;
        }
        process.stdout.write(
          table(
            ['started', 'job', 'status', 'dry', 'trigger', 'matched', 'deleted', 'dependents', 'batches', 'seconds', 'rows/s', 'workflow'],
            rows.map((r) => [
              new Date(r.started_at).toISOString(),
              r.job,
              r.status,
              r.dry_run ? 'yes' : '',
              r.trigger,
              r.matched,
              r.deleted,
              formatCounts(r.children_deleted),
              r.batches,
              r.duration_ms === null ? '' : (Number(r.duration_ms) / 1000).toFixed(2),
              r.rows_per_second,
              r.workflow_id,
            ]),
          ) + '\n',
        );
      } finally {
        await client.end();
      }
    });
}
