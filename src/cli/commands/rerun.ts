import type { Command } from 'commander';
import { InputError } from '../../kernel/errors.js';
import { TRIGGER_MAX_LENGTH } from '../../kernel/limits.js';
import { parseTaskQueueFlag, reportingWorkflowFailure, resolveTemporal, type SettingsSource, type StartFlags } from '../context.js';
import { renderResult } from '../render.js';

/**
 * `maint rerun <workflow-id>`: the same job with the same parameters as a finished run, as a new run whose trigger
 * names the old one (`rerun:<id>`, in the audit row and the Web UI's summary). Read from what every start records:
 * the job's search attribute and the parameters in the memo; a run started without them (a bare `temporal workflow
 * start`) is refused with the way to start it again.
 */
export function registerRerun(program: Command, settings: SettingsSource): void {
  program
    .command('rerun')
    .description('start a finished run again: same job, same parameters, a new run linked to the old by its trigger')
    .argument('<workflow-id>', 'the run to repeat (`maint runs`)')
    .option('--wait', 'wait for the result and print it')
    .option('--json', 'print JSON')
    .option('--address <host:port>', 'Temporal frontend address')
    .option('--namespace <ns>', 'Temporal namespace')
    .option('--task-queue <name>', 'task queue of the worker', parseTaskQueueFlag)
    .action(async (workflowId: string, flags: StartFlags & { wait?: boolean; json?: boolean }) => {
      const [{ connectClient }, { startJob }, { WorkflowNotFoundError }] = await Promise.all([import('../../temporal/connect.js'), import('../../start-job.js'), import('@temporalio/client')]);
      const s = await settings();
      const target = await resolveTemporal(s, flags);
      const client = await connectClient(target);
      try {
        const old = await client.workflow
          .getHandle(workflowId)
          .describe()
          .catch((err: unknown) => {
            if (err instanceof WorkflowNotFoundError) throw new InputError('workflow-id', `"${workflowId}" is not a workflow of namespace ${target.namespace}`);
            throw err;
          });
        if (old.status.name === 'RUNNING') throw new InputError('workflow-id', `${workflowId} is still running; stop it first (maint cancel ${workflowId}) or wait for it`);
        const job = old.typedSearchAttributes.getAll().find((p) => p.key.name === 'MaintJob')?.value;
        const params = (old.memo as { parameters?: Record<string, unknown> } | undefined)?.parameters;
        if (typeof job !== 'string' || !params) {
          throw new InputError('workflow-id', `${workflowId} does not record its job and parameters (started without the search attributes and memo of maint, the client or a schedule); start it again with maint run <job>`);
        }
        const trigger = `rerun:${workflowId}`.slice(0, TRIGGER_MAX_LENGTH);
        const { handle, runId } = await startJob(client, { job, params, taskQueue: target.taskQueue, trigger }, s.catalogue);
        const started = { workflowId: handle.workflowId, runId, job, params, reruns: workflowId };
        if (!flags.wait) {
          process.stdout.write(flags.json ? JSON.stringify(started) + '\n' : `started ${handle.workflowId} (run ${runId}): ${job} ${JSON.stringify(params)} again, trigger ${trigger}\n`);
          return;
        }
        if (!flags.json) process.stderr.write(`started ${handle.workflowId} (run ${runId}): ${job} again\n`);
        await reportingWorkflowFailure(job, handle.workflowId, async () => {
          const result = await handle.result();
          process.stdout.write(flags.json ? JSON.stringify({ ...started, result }) + '\n' : renderResult(s.catalogue.find(job), result));
        }, { client, handle, taskQueue: target.taskQueue, namespace: target.namespace });
      } finally {
        await client.connection.close();
      }
    });
}
