import type { Command } from 'commander';
import { InputError } from '../../kernel/errors.js';
import { parseIntFlag, parseTaskQueueFlag, resolveTemporal, type ConnectionFlags, type SettingsSource } from '../context.js';
import { filterRunning, runningOf } from './cancel.js';
import { addKnobFlags, KNOB_FLAGS, type KnobFlags } from '../budget-flags.js';

interface ControlFlags extends ConnectionFlags, KnobFlags {
  pause?: boolean;
  resume?: boolean;
  batchSize?: number;
  adaptive?: boolean;
  json?: boolean;
  databaseUrl?: string;
  parallel?: number;
  allLanes?: boolean;
}


/** A number as the flag gives it (the workflow checks its range); text that is no number is refused here, by the flag. */
function numberFlag(flag: string, v: string): number {
  if (!/^\s*\d+(\.\d+)?\s*$/.test(v)) throw new InputError(flag, `"${v}" is not allowed; expected a number`);
  return Number(v);
}

/** `maint control`: slow down, pause or resume a running purge without cancelling it (the workflow's `control` update). */
export function registerControl(program: Command, settings: SettingsSource): void {
  const command = program
    .command('control')
    .description("pause, resume, fix the batch size, the lanes or the budget's limits of a running purge, without stopping it; holds until changed")
    .argument('<workflow-id|job>', 'a workflow id (`maint runs`), or a job name: its running purge on this task queue')
    .option('--pause', 'start no batch until --resume (the batch under way finishes)')
    .option('--resume', 'go on after --pause')
    .option('--batch-size <n>', 'a fixed batch size from the next lane run on (1-100000)', parseIntFlag('--batch-size', 1, 100_000))
    .option('--adaptive', 'back to the planned batch size')
    .option('--parallel <n>', "most lanes at once, from the next lane run (1-16, within the worker's MAINT_MAX_PARALLEL); more than the step's planned lanes applies from the next step's plan", parseIntFlag('--parallel', 1, 16))
    .option('--all-lanes', 'back to all the planned lanes at once');
  addKnobFlags(command, (meaning) => `${meaning}; checked against the run's budget and the worker's MAINT_BRAKE_* limits`);
  command
    .option('--json', 'print JSON')
    .option('--database-url <url>', "with a job's name: also the purge the audit table says holds it")
    .option('--address <host:port>', 'Temporal frontend address')
    .option('--namespace <ns>', 'Temporal namespace')
    .option('--task-queue <name>', 'task queue of the worker', parseTaskQueueFlag)
    .action(async (target: string, flags: ControlFlags) => {
      if (flags.parallel !== undefined && flags.allLanes) throw new InputError('--parallel', 'and --all-lanes together ask for two things; give one');
      const knobs = Object.fromEntries(
        KNOB_FLAGS.filter(([k]) => flags[k] !== undefined).map(([k, flag]) => [k, numberFlag(flag.split(' ')[0]!, flags[k]!)]),
      );
      if (flags.pause && flags.resume) throw new InputError('--pause', 'and --resume together ask for two things; give one');
      if (flags.batchSize !== undefined && flags.adaptive) throw new InputError('--batch-size', 'and --adaptive together ask for two things; give one');
      const req = {
        ...(flags.pause ? { pause: true } : flags.resume ? { pause: false } : {}),
        ...(flags.batchSize !== undefined ? { batchSize: flags.batchSize } : flags.adaptive ? { batchSize: null } : {}),
        ...(flags.parallel !== undefined ? { parallel: flags.parallel } : flags.allLanes ? { parallel: null } : {}),
        ...knobs,
      };
      if (!Object.keys(req).length) throw new InputError('control', 'asks for nothing; give --pause, --resume, --batch-size N, --adaptive, --parallel N, --all-lanes or a budget knob (--max-replica-lag S, --sleep-coef X, ...)');
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
        else {
          for (const o of out) {
            const lanes = o.parallel ? `, at most ${o.parallel} lane(s) at once` : '';
            const budget = o.budget && Object.keys(o.budget).length ? `, budget ${Object.entries(o.budget).map(([k, v]) => `${k} ${String(v)}`).join(', ')}` : '';
            process.stdout.write(`${o.workflowId}: ${o.paused ? 'paused' : 'running'}, batch size ${o.batchSize ?? 'as planned'}${lanes}${budget}\n`);
          }
        }
      } finally {
        await client.connection.close();
      }
    });
}
