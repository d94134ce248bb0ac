import type { Command } from 'commander';
import type { PoolConfig } from 'pg';
import { withPoolDb } from '../../db/query.js';
import { cleanupStats, type CleanupStats } from '../../health/cleanup-stats.js';
import type { HealthReport } from '../../health/types.js';
import { commandDatabase, parseIntFlag, parseTaskQueueFlag, reportingWorkflowFailure, resolveTemporal, type ConnectionFlags, type SettingsSource } from '../context.js';
import { renderCleanupStats, renderReport } from '../../health/render.js';
import type { Settings } from '../../settings/index.js';
import { InputError } from '../../kernel/errors.js';

/** Per-job cleanup statistics over the last `days` days, read from the audit table. */
async function readCleanupStats(database: PoolConfig, days: number): Promise<CleanupStats> {
  return withPoolDb(database, (db) => cleanupStats(db, days));
}

export function registerReport(program: Command, settings: SettingsSource): void {
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
      // The monitoring plugin convention (Nagios, Icinga, Sensu, Zabbix): 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
      let status: HealthReport['status'] | undefined;
      try {
        status = await report(await settings(), flags);
      } catch (err) {
        const { describeError } = await import('../errors.js');
        process.stderr.write(`error: ${describeError(err instanceof Error && err.cause instanceof InputError ? err.cause : err)}\n`);
      }
      process.exitCode = status ? EXIT_CODES[status] : UNKNOWN;
    });
}

export const EXIT_CODES: Record<HealthReport['status'], number> = { ok: 0, warning: 1, critical: 2 };
const UNKNOWN = 3;

/** Runs the report and prints it; its status, or undefined when the run did not give one (said on stderr). */
async function report(s: Settings, flags: ConnectionFlags & { json?: boolean; days?: number; databaseUrl?: string }): Promise<HealthReport['status'] | undefined> {
  const [{ connectClient }, { startJob }] = await Promise.all([import('../../temporal/connect.js'), import('../../start-job.js')]);
  const { catalogue } = s;
  const target = await resolveTemporal(s, flags);
  const database = flags.days ? await commandDatabase(s, flags.databaseUrl, 1) : undefined;
  const client = await connectClient(target);
  let status: HealthReport['status'] | undefined;
  try {
    const { handle } = await startJob(client, { job: 'health-report', taskQueue: target.taskQueue, trigger: 'cli' }, catalogue);
    await reportingWorkflowFailure('report', handle.workflowId, async () => {
      const report = (await handle.result()) as HealthReport;
      const cleanup = database && flags.days ? await readCleanupStats(database, flags.days) : undefined;
      if (flags.json) process.stdout.write(JSON.stringify(cleanup ? { ...report, cleanup } : report) + '\n');
      else process.stdout.write(renderReport(report) + (cleanup ? `\n${renderCleanupStats(cleanup)}` : ''));
      status = report.status;
    }, { client, handle, taskQueue: target.taskQueue, namespace: target.namespace });
  } finally {
    await client.connection.close();
  }
  return status;
}
