import type { Command } from 'commander';
import { InputError } from '../../kernel/errors.js';
import { parseIntFlag, parseTaskQueueFlag, resolveTemporal, type ConnectionFlags, type SettingsSource } from '../context.js';
import { filterRunning, runningOf } from './cancel.js';

interface ControlFlags extends ConnectionFlags {
  pause?: boolean;
  resume?: boolean;
  batchSize?: number;
  adaptive?: boolean;
  json?: boolean;
  databaseUrl?: string;
}

/** `maint control`: slow down, pause or resume a running purge without cancelling it (the workflow's `control` update). */
export function registerControl(program: Command, settings: SettingsSource): void {
  program
    .command('control')
    .description('pause, resume or fix the batch size of a running purge, without stopping it; holds until changed')
    .argument('<workflow-id|job>', 'a workflow id (`maint runs`), or a job name: its running purge on this task queue')
    .option('--pause', 'start no batch until --resume (the batch under way finishes)')
    .option('--resume', 'go on after --pause')
    .option('--batch-size <n>', 'a fixed batch size from the next lane run on (1-100000)', parseIntFlag('--batch-size', 1, 100_000))
    .option('--adaptive', 'back to the planned batch size')
    .option('--json', 'print JSON')
    .option('--database-url <url>', "with a job's name: also the purge the audit table says holds it")
    .option('--address <host:port>', 'Temporal frontend address')
    .option('--namespace <ns>', 'Temporal namespace')
    .option('--task-queue <name>', 'task queue of the worker', parseTaskQueueFlag)
    .action(async (target: string, flags: ControlFlags) => {
      if (flags.pause && flags.resume) throw new InputError('--pause', 'and --resume together ask for two things; give one');
      if (flags.batchSize !== undefined && flags.adaptive) throw new InputError('--batch-size', 'and --adaptive together ask for two things; give one');
      const req = {
        ...(flags.pause ? { pause: true } : flags.resume ? { pause: false } : {}),
        ...(flags.batchSize !== undefined ? { batchSize: flags.batchSize } : flags.adaptive ? { batchSize: null } : {}),
      };
      if (!Object.keys(req).length) throw new InputError('control', 'asks for nothing; give --pause, --resume, --batch-size N or --adaptive');
      const [{ connectClient }, { controlUpdate }] = await Promise.all([import('../../temporal/connect.js'), import('../../temporal/queries.js')]);
      const s = await settings();
      const temporal = await resolveTemporal(s, flags);
      const client = await connectClient(temporal);
      try {
        const isJob = s.catalogue.entries.some((e) => e.name === target);
        const ids = isJob ? await filterRunning(client, await runningOf(client, target, temporal.taskQueue, s, flags.databaseUrl)) : [target];
        if (!ids.length) throw new InputError('job', `${target} has no running workflow on task queue ${temporal.taskQueue}`);
        const out = [];
        for (const workflowId of ids) {
          const control = await client.workflow.getHandle(workflowId).executeUpdate(controlUpdate, { args: [req] });
          out.push({ workflowId, ...control });
        }
        if (flags.json) process.stdout.write(JSON.stringify(out) + '\n');
        else for (const o of out) process.stdout.write(`${o.workflowId}: ${o.paused ? 'paused' : 'running'}, batch size ${o.batchSize ?? 'as planned'}\n`);
      } finally {
        await client.connection.close();
      }
    });
}
