import type { Command } from 'commander';
import { withPoolDb } from '../../db/query.js';
import { listRuns } from '../../db/run-record.js';
import { commandDatabase, parseIntFlag, type SettingsSource } from '../context.js';
import { formatCounts, table } from '../../kernel/text.js';

interface RunsFlags {
  limit: number;
  job?: string;
  json?: boolean;
  databaseUrl?: string;
}

/** Why a run failed (or what a completed one could not do), on one line; a run that replaces another says which. */
function errorCell(r: Record<string, any>): string {
  const reason = r.error ? String(r.error).replace(/\s+/g, ' ') : '';
  const short = reason.length > 160 ? `${reason.slice(0, 159)}…` : reason;
  return [short, r.replaces ? `(replaces run ${r.replaces})` : ''].filter(Boolean).join(' ');
}

export function registerRuns(program: Command, settings: SettingsSource): void {
  program
    .command('runs')
    .description('list recent runs from the audit table')
    .option('--limit <n>', 'how many (1-1000)', parseIntFlag('--limit', 1, 1000), 20)
    .option('--job <name>', 'only this job')
    .option('--json', 'print JSON')
    .option('--database-url <url>', 'database (default: DATABASE_URL, else the local environment)')
    .action(async (flags: RunsFlags) => {
      const rows = await withPoolDb(await commandDatabase(await settings(), flags.databaseUrl, 1), (db) => listRuns(db, { job: flags.job, limit: flags.limit }));
      if (flags.json) {
        process.stdout.write(JSON.stringify(rows) + '\n');
        return;
      }
      process.stdout.write(
        table(
          ['started', 'job', 'status', 'dry', 'trigger', 'matched', 'deleted', 'dependents', 'batches', 'seconds', 'rows/s', 'workflow', 'error'],
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
            errorCell(r),
          ]),
        ) + '\n',
      );
    });
}
