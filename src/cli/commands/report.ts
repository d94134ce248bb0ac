import type { Command } from 'commander';
import type { HealthReport } from '../../health/types.js';
import { parseTaskQueueFlag, reportingWorkflowFailure, resolveTemporal, type ConnectionFlags } from '../context.js';
import { renderReport } from '../render.js';

export function registerReport(program: Command): void {
  program
    .command('report')
    .description('run the health report workflow and print it: tokens, keys, last 24 hours, status and recommendations')
    .option('--json', 'print the report as JSON')
    .option('--address <host:port>', 'Temporal frontend address')
    .option('--namespace <ns>', 'Temporal namespace')
    .option('--task-queue <name>', 'task queue of the worker', parseTaskQueueFlag)
    .action(async (flags: ConnectionFlags & { json?: boolean }) => {
      const { connectClient, startReport } = await import('../../temporal.js');
      const target = await resolveTemporal(flags);
      const client = await connectClient(target);
      try {
        const handle = await startReport(client, { taskQueue: target.taskQueue, trigger: 'cli' });
        await reportingWorkflowFailure('report', handle.workflowId, async () => {
          const report = (await handle.result()) as HealthReport;
          process.stdout.write(flags.json ? JSON.stringify(report) + '\n' : renderReport(report));
        }, { client, handle, taskQueue: target.taskQueue, namespace: target.namespace });
      } finally {
        await client.connection.close();
      }
    });
}
