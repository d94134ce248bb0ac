import type { Command } from 'commander';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { InputError } from '../../kernel/errors.js';
import { commandDatabase, parseIntFlag, parseTaskQueueFlag, resolveTemporal, type ConnectionFlags, type SettingsSource } from '../context.js';
import { withPoolDb } from '../../db/query.js';
import { holderOf } from '../../db/run-record.js';
import type { Settings } from '../../settings/index.js';

interface CancelFlags extends ConnectionFlags {
  databaseUrl?: string;
  wait: boolean;
  timeout: number;
  json?: boolean;
}

/**
 * The running workflows of a job: as visibility lists them (the runs we start carry MaintJob, see
 * src/temporal/labels.ts), and the purge that holds the job in the audit table, which a start without search
 * attributes (a bare `temporal workflow start`) has too. No database configured: visibility alone.
 */
export async function runningOf(client: Client, job: string, taskQueue: string, s: Settings, databaseUrl: string | undefined): Promise<string[]> {
  const ids = new Set<string>();
  // This deployment's runs only (its task queue): another deployment sharing the namespace keeps its purges.
  for await (const w of client.workflow.list({ query: `MaintJob = '${job}' AND ExecutionStatus = 'Running' AND TaskQueue = '${taskQueue}'` })) ids.add(w.workflowId);
  const database = await commandDatabase(s, databaseUrl, 1).catch((err: unknown) => {
    if (err instanceof InputError) return undefined;
    throw err;
  });
  if (database) {
    const holder = await withPoolDb(database, (db) => holderOf(db, job)).catch((err: unknown) => {
      process.stderr.write(`warning: the audit table could not be read (${(err as Error).message}); cancelling what visibility lists\n`);
      return undefined;
    });
    if (holder) ids.add(holder.workflow_id);
  }
  return [...ids];
}

export async function filterRunning(client: Client, ids: string[]): Promise<string[]> {
  const running: string[] = [];
  for (const id of ids) if ((await client.workflow.getHandle(id).describe()).status.name === 'RUNNING') running.push(id);
  return running;
}

/** Waits until the workflow closed (or `timeoutMs` passed) and says how it ended. */
async function closedStatus(handle: WorkflowHandle, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { status } = await handle.describe();
    if (status.name !== 'RUNNING' || Date.now() > deadline) return status.name;
    await new Promise((r) => setTimeout(r, 250));
  }
}

export function registerCancel(program: Command, settings: SettingsSource): void {
  program
    .command('cancel')
    .description("stop a running job: a workflow id, or a job's name (its running purge). A lane run at work learns of it within about a second and starts no batch after that; the run is recorded cancelled with what it did")
    .argument('<workflow-id|job>', 'a workflow id (`maint runs`), or a job name (see `maint jobs`)')
    .option('--no-wait', 'do not wait for the run to stop')
    .option('--timeout <seconds>', 'how long to wait for it to stop (1-3600)', parseIntFlag('--timeout', 1, 3600), 60)
    .option('--json', 'print JSON')
    .option('--database-url <url>', "with a job's name: also the purge the audit table says holds it (default: DATABASE_URL, else the local environment)")
    .option('--address <host:port>', 'Temporal frontend address')
    .option('--namespace <ns>', 'Temporal namespace')
    .option('--task-queue <name>', 'task queue of the worker', parseTaskQueueFlag)
    .action(async (target: string, flags: CancelFlags) => {
      const { connectClient } = await import('../../temporal/connect.js');
      const s = await settings();
      const isJob = s.catalogue.entries.some((e) => e.name === target);
      const temporal = await resolveTemporal(s, flags);
      const client = await connectClient(temporal);
      try {
        const listed = isJob ? await runningOf(client, target, temporal.taskQueue, s, flags.databaseUrl) : [target];
        // Visibility may still list a run that just ended; the server's own answer decides.
        const ids = isJob ? await filterRunning(client, listed) : listed;
        if (!ids.length) throw new InputError('job', `${target} has no running workflow (visibility lists runs a second or so after they start)`);
        const out: Array<{ workflowId: string; status: string }> = [];
        for (const workflowId of ids) {
          const handle = client.workflow.getHandle(workflowId);
          await handle.cancel();
          out.push({ workflowId, status: flags.wait ? await closedStatus(handle, flags.timeout * 1000) : 'CANCEL_REQUESTED' });
        }
        if (flags.json) process.stdout.write(JSON.stringify(out) + '\n');
        else for (const o of out) process.stdout.write(`${o.workflowId}: ${o.status.toLowerCase().replace(/_/g, ' ')}\n`);
        // Still running after the timeout: the command did not do what was asked.
        if (flags.wait && out.some((o) => o.status === 'RUNNING')) process.exitCode = 1;
      } finally {
        await client.connection.close();
      }
    });
}
