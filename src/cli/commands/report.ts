import type { Command } from 'commander';
import { pgConfig } from '../../db/schema.js';
import { withPoolDb } from '../../db/query.js';
import { cleanupStats, type CleanupStats } from '../../health/cleanup-stats.js';
import type { HealthReport } from '../../health/types.js';
import { parseIntFlag, parseTaskQueueFlag, reportingWorkflowFailure, resolveDatabaseUrl, resolveTemporal, type ConnectionFlags } from '../context.js';
import { renderCleanupStats, renderReport } from '../../health/render.js';

/** Per-job cleanup statistics over the last `days` days, read from the audit table. */
async function readCleanupStats(databaseUrl: string, days: number): Promise<CleanupStats> {
  return withPoolDb(pgConfig(databaseUrl, { max: 1 }), (db) => cleanupStats(db, days));
}

export function registerReport(program: Command): void {
  program
    .command('report')
    .description('run the health report workflow and print it: tokens, keys, last 24 hours, status and recommendations')
    .option('--days <n>', 'add per-job cleanup statistics over the last N days (1-3650): runs, failures, rows, median duration, rows/s', parseIntFlag('--days', 1, 3650))
    .option('--json', 'print the report as JSON (with --days, its `cleanup` field holds the statistics)')
    .option('--address <host:port>', 'Temporal frontend address')
    .option('--namespace <ns>', 'Temporal namespace')
    .option('--task-queue <name>', 'task queue of the worker', parseTaskQueueFlag)
    .option('--database-url <url>', 'database for --days (default: DATABASE_URL, else the local environment)')
    .action(async (flags: ConnectionFlags & { json?: boolean; days?: number; databaseUrl?: string }) => {
      const [{ connectClient }, { startJob }, { loadCatalogue }] = await Promise.all([import('../../temporal/connect.js'), import('../../start-job.js'), import('../../settings/index.js')]);
      const catalogue = loadCatalogue();
      const target = await resolveTemporal(flags);
      const databaseUrl = flags.days ? await resolveDatabaseUrl(flags.databaseUrl) : undefined;
      const client = await connectClient(target);
      try {
        const { handle } = await startJob(client, { job: 'health-report', taskQueue: target.taskQueue, trigger: 'cli' }, catalogue);
        await reportingWorkflowFailure('report', handle.workflowId, async () => {
          const report = (await handle.result()) as HealthReport;
          const cleanup = databaseUrl && flags.days ? await readCleanupStats(databaseUrl, flags.days) : undefined;
          if (flags.json) process.stdout.write(JSON.stringify(cleanup ? { ...report, cleanup } : report) + '\n');
          else process.stdout.write(renderReport(report) + (cleanup ? `\n${renderCleanupStats(cleanup)}` : ''));
        }, { client, handle, taskQueue: target.taskQueue, namespace: target.namespace });
      } finally {
        await client.connection.close();
      }
    });
}
