import type { Command } from 'commander';
import type { WorkflowHandle } from '@temporalio/client';
import { BATCH_SIZE, DAYS, PARALLEL } from '../../purge/params.js';
import { RUN_FLAGS, type RunFlag } from '../../catalogue/entry.js';
import { InputError } from '../../kernel/errors.js';
import type { Progress, PurgeResult } from '../../purge/types.js';
import { parseTaskQueueFlag, parseWorkflowIdFlag, resolveTemporal, reportingWorkflowFailure, type SettingsSource, type StartFlags, whileRunning } from '../context.js';
import { WORKFLOW_ID_MAX_LENGTH } from '../../kernel/limits.js';
import { renderResult, resultFailed } from '../render.js';

/** As commander hands them over: the job's parameters as typed, checked by the job's schema. */
interface RunFlags extends StartFlags {
  dryRun?: boolean;
  batchSize?: string;
  asOf?: string;
  days?: string;
  types?: string;
  provider?: string[];
  refreshTokenExpireSeconds?: string;
  dotVersion?: string;
  userTable?: string;
  parallel?: string;
  workflowId?: string;
}

/** Waits for the result; on a terminal, draws a progress bar from the workflow's `progress` query. */
async function watch(handle: WorkflowHandle, showBar: boolean): Promise<PurgeResult> {
  if (!showBar) return handle.result() as Promise<PurgeResult>;
  const [{ default: cliProgress }, { progressQuery }] = await Promise.all([import('cli-progress'), import('../../temporal/queries.js')]);
  const bar = new cliProgress.SingleBar(
    { format: ' {phase} |{bar}| {value}/{total} rows | {batches} batches | ETA {eta_formatted}', hideCursor: true, stream: process.stderr },
    cliProgress.Presets.shades_classic,
  );
  bar.start(1, 0, { phase: 'starting', batches: 0 });
  try {
    const r = await whileRunning<PurgeResult, Progress>(handle, progressQuery, 300, (p) => {
      bar.setTotal(Math.max(p.matched ?? 1, p.deleted, 1));
      bar.update(p.dryRun ? (p.matched ?? 0) : p.deleted, { phase: p.phase, batches: p.batches });
    });
    bar.update(r.dryRun ? (r.matched ?? 0) : r.deleted, { phase: 'done', batches: r.batches });
    return r;
  } finally {
    bar.stop();
  }
}

/** Runs `fn` with an error about a parameter renamed to the flag that gave it (`batchSize` -> `--batch-size`). */
function namingFlags<T>(used: readonly RunFlag[], fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    const flag = used.find((f) => err instanceof InputError && RUN_FLAGS[f].param === err.field);
    if (!flag || !(err instanceof InputError)) throw err;
    throw new InputError(RUN_FLAGS[flag].flag, err.message.slice(err.field.length + 2));
  }
}

export function registerRun(program: Command, settings: SettingsSource): void {
  program
    .command('run')
    .description('start a maintenance job as a Temporal workflow')
    .argument('<job>', 'job name (see `maint jobs`)')
    .option('--dry-run', 'report what would change (purges, keypair-cleanup, scopes); change nothing')
    .option('--batch-size <n>', `purges: rows per batch transaction (${BATCH_SIZE.min}-${BATCH_SIZE.max}, default ${BATCH_SIZE.default})`)
    .option('--as-of <timestamp>', 'purges: reference time, ISO 8601 with a time zone (2026-03-07T10:00:00Z) or a date (UTC midnight), not in the future; default: now')
    .option('--days <n>', `purges that take it: retention in days (${DAYS.min}-${DAYS.max}; see \`maint jobs\`)`)
    .option('--types <a,b>', 'purges that select by type: the token types (see `maint jobs`)')
    .option('--refresh-token-expire-seconds <n>', "django-oauth-toolkit-cleartokens: the app's REFRESH_TOKEN_EXPIRE_SECONDS (unset: no refresh token is deleted, as cleartokens does)")
    .option('--dot-version <v>', 'django-oauth-toolkit-cleartokens: the django-oauth-toolkit version the app runs (e.g. 1.7, 2.4, 3.0)')
    .option('--user-table <table>', "hidp-remove-stale-unverified-accounts: the AUTH_USER_MODEL's table (default: the one hidp_accounts_emailchangerequest references)")
    .option('--parallel <n>', `purges: lanes worked at once, on any workers of the queue (${PARALLEL.min}-${PARALLEL.max}; default ${PARALLEL.default} on large tables, 1 on small ones)`)
    .option('--provider <name>', 'refresh-jwks: only this provider (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--wait', 'wait for the result (purges show a progress bar)')
    .option('--json', 'print the result as JSON')
    .option('--workflow-id <id>', `workflow id, at most ${WORKFLOW_ID_MAX_LENGTH} characters (default: maint-<job>-<timestamp>)`, parseWorkflowIdFlag)
    .option('--address <host:port>', 'Temporal frontend address')
    .option('--namespace <ns>', 'Temporal namespace')
    .option('--task-queue <name>', 'task queue of the worker', parseTaskQueueFlag)
    .action(async (jobName: string, flags: RunFlags) => {
      // Loaded here, not at start, so `maint --help` answers at once.
      const [{ connectClient }, { prepareStart, startJob }] = await Promise.all([import('../../temporal/connect.js'), import('../../start-job.js')]);
      // Everything is validated before anything is contacted.
      const s = await settings();
      const { catalogue } = s;
      const other = catalogue.entries.find((e) => e.name === jobName && e.command);
      if (other) throw new InputError('job', `${other.name} has a command of its own: ${other.command}`);
      const job = catalogue.find(jobName, catalogue.runnable());
      const given: Partial<Record<RunFlag, unknown>> = { ...flags, types: flags.types?.split(',') };
      const used = (Object.keys(RUN_FLAGS) as RunFlag[]).filter((f) => given[f] !== undefined);
      catalogue.checkFlags(job, used);
      const params = Object.fromEntries(used.map((f) => [RUN_FLAGS[f].param, given[f]]));
      const target = await resolveTemporal(s, flags);
      // Checked by the job's own parameter schema (the one its workflow uses), the error naming the flag.
      const start = namingFlags(used, () => prepareStart({ job: job.name, params, taskQueue: target.taskQueue, trigger: 'cli', workflowId: flags.workflowId }, catalogue));
      const client = await connectClient(target);
      try {
        const { handle, runId } = await startJob(client, start);
        if (!flags.wait) {
          const info = { workflowId: handle.workflowId, runId, job: job.name };
          process.stdout.write(flags.json ? JSON.stringify(info) + '\n' : `started ${handle.workflowId} (run ${runId})\n`);
          return;
        }
        await reportingWorkflowFailure('workflow', handle.workflowId, async () => {
          const result = job.purge ? await watch(handle, !flags.json && Boolean(process.stderr.isTTY)) : await handle.result();
          process.stdout.write(flags.json ? JSON.stringify(result) + '\n' : renderResult(job, result));
          // A job that completed but could not do all it should (a provider down) fails the command for cron.
          if (resultFailed(job, result)) process.exitCode = 1;
        }, { client, handle, taskQueue: target.taskQueue, namespace: target.namespace });
      } finally {
        await client.connection.close();
      }
    });
}
