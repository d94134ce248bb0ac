import type { Command } from 'commander';
import type { WorkflowHandle } from '@temporalio/client';
import { BATCH_SIZE, DAYS, PARALLEL } from '../../jobs/params.js';
import type { RunFlags as JobFlags } from '../../jobs/runnable.js';
import type { Progress, PurgeResult } from '../../jobs/types.js';
import { parseAsOfFlag, parseIntFlag, parseTaskQueueFlag, parseWorkflowIdFlag, resolveTemporal, type ConnectionFlags, reportingWorkflowFailure } from '../context.js';
import { WORKFLOW_ID_MAX_LENGTH } from '../../limits.js';
import { formatCounts, table } from '../format.js';
import { renderJobResult, jobResultFailed } from '../render.js';

interface RunFlags extends ConnectionFlags {
  dryRun?: boolean;
  batchSize?: number;
  asOf?: string;
  days?: number;
  types?: string;
  provider?: string[];
  refreshTokenExpireSeconds?: number;
  dotVersion?: string;
  parallel?: number;
  wait?: boolean;
  json?: boolean;
  workflowId?: string;
}

/** Waits for the result; on a terminal, draws a progress bar from the workflow's `progress` query. */
async function watch(handle: WorkflowHandle, showBar: boolean): Promise<PurgeResult> {
  const result = handle.result() as Promise<PurgeResult>;
  if (!showBar) return result;
  const { default: cliProgress } = await import('cli-progress');
  const bar = new cliProgress.SingleBar(
    { format: ' {phase} |{bar}| {value}/{total} rows | {batches} batches | ETA {eta_formatted}', hideCursor: true, stream: process.stderr },
    cliProgress.Presets.shades_classic,
  );
  bar.start(1, 0, { phase: 'starting', batches: 0 });
  let finished = false;
  const poll = (async () => {
    while (!finished) {
      try {
        const p = await handle.query<Progress>('progress');
        bar.setTotal(Math.max(p.matched ?? 1, p.deleted, 1));
        bar.update(p.dryRun ? (p.matched ?? 0) : p.deleted, { phase: p.phase, batches: p.batches });
      } catch {
        // Between continue-as-new runs a query can miss; the next poll catches up.
      }
      await new Promise((r) => setTimeout(r, 300));
    }
  })();
  try {
    const r = await result;
    bar.update(r.dryRun ? (r.matched ?? 0) : r.deleted, { phase: 'done', batches: r.batches });
    return r;
  } finally {
    finished = true;
    await poll;
    bar.stop();
  }
}

export function renderPurgeResult(r: PurgeResult): string {
  return (
    table(
      ['field', 'value'],
      [
        ['job', r.job],
        ['status', r.status + (r.dryRun ? ' (dry run: nothing deleted)' : '')],
        ['cutoff', r.cutoff],
        ['matched', r.matched],
        [r.dryRun ? 'would delete' : 'deleted', r.dryRun ? r.matched : r.deleted],
        [r.dryRun ? 'would delete dependents' : 'dependents deleted', formatCounts(r.children)],
        ...(r.updated ? [['updated', r.updated] as [string, number]] : []),
        ...(r.steps ? [['per step', formatCounts(r.steps)] as [string, string]] : []),
        ['batches', r.batches],
        ['duration', `${(r.durationMs / 1000).toFixed(2)} s`],
        ['rows/s', r.rowsPerSecond],
        ...(r.skippedLocked ? [['left (locked on both passes)', r.skippedLocked] as [string, number]] : []),
      ],
    ) + '\n' + renderPlans(r)
  );
}

/** How each step walks its table; a dry run adds what PostgreSQL plans for one batch. */
function renderPlans(r: PurgeResult): string {
  if (!r.plans?.length) return '';
  const rows = r.plans.map((p) => [
    p.step,
    p.strategy,
    p.index,
    `${p.key} (${p.keyType})`,
    `${p.chunk}${p.adaptive ? ' (adapts)' : ''}`,
    p.lanes.length,
  ]);
  const explains = r.plans.filter((p) => p.explain).map((p) => `\nEXPLAIN of one batch of ${p.step}:\n${p.explain}\n`);
  return '\n' + table(['step', 'walk', 'index', 'key', 'first batch', 'lanes'], rows) + '\n' + explains.join('');
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('start a maintenance job as a Temporal workflow')
    .argument('<job>', 'job name (see `maint jobs`)')
    .option('--dry-run', 'report what would change (purges, keypair-cleanup, scopes); change nothing')
    .option('--batch-size <n>', `purges: rows per batch transaction (${BATCH_SIZE.min}-${BATCH_SIZE.max}, default ${BATCH_SIZE.default})`, parseIntFlag('--batch-size', BATCH_SIZE.min, BATCH_SIZE.max))
    .option('--as-of <timestamp>', 'purges: reference time, ISO 8601 with a time zone (2026-03-07T10:00:00Z) or a date (UTC midnight), not in the future; default: now', parseAsOfFlag)
    .option('--days <n>', `purges that take it: retention in days (${DAYS.min}-${DAYS.max}; see \`maint jobs\`)`, parseIntFlag('--days', DAYS.min, DAYS.max))
    .option('--types <a,b>', 'purges that select by type: the token types (see `maint jobs`)')
    .option('--refresh-token-expire-seconds <n>', "django-oauth-toolkit-cleartokens: the app's REFRESH_TOKEN_EXPIRE_SECONDS (unset: no refresh token is deleted, as cleartokens does)", parseIntFlag('--refresh-token-expire-seconds', 0, 315_360_000))
    .option('--dot-version <v>', 'django-oauth-toolkit-cleartokens: the django-oauth-toolkit version the app runs (e.g. 1.7, 2.4, 3.0)')
    .option('--parallel <n>', `purges: lanes worked at once, on any workers of the queue (${PARALLEL.min}-${PARALLEL.max}; default ${PARALLEL.default} on large tables, 1 on small ones)`, parseIntFlag('--parallel', PARALLEL.min, PARALLEL.max))
    .option('--provider <name>', 'refresh-jwks: only this provider (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--wait', 'wait for the result (purges show a progress bar)')
    .option('--json', 'print the result as JSON')
    .option('--workflow-id <id>', `workflow id, at most ${WORKFLOW_ID_MAX_LENGTH} characters (default: maint-<job>-<timestamp>)`, parseWorkflowIdFlag)
    .option('--address <host:port>', 'Temporal frontend address')
    .option('--namespace <ns>', 'Temporal namespace')
    .option('--task-queue <name>', 'task queue of the worker', parseTaskQueueFlag)
    .action(async (jobName: string, flags: RunFlags) => {
      // Loaded here, not at start, so `maint --help` answers at once.
      const { checkFlags, findRunnableJob } = await import('../../jobs/runnable.js');
      const { connectClient, startJob } = await import('../../temporal.js');
      // Everything is validated before anything is contacted.
      const job = findRunnableJob(jobName);
      const jobFlags: JobFlags = {
        dryRun: flags.dryRun,
        batchSize: flags.batchSize,
        asOf: flags.asOf,
        days: flags.days,
        types: flags.types?.split(','),
        provider: flags.provider,
        refreshTokenExpireSeconds: flags.refreshTokenExpireSeconds,
        dotVersion: flags.dotVersion,
        parallel: flags.parallel,
      };
      checkFlags(job, jobFlags);
      job.input(jobFlags, 'cli');
      const target = await resolveTemporal(flags);
      const client = await connectClient(target);
      try {
        const { handle } = await startJob(client, { job: job.name, flags: jobFlags, taskQueue: target.taskQueue, trigger: 'cli', workflowId: flags.workflowId });
        if (!flags.wait) {
          const info = { workflowId: handle.workflowId, runId: handle.firstExecutionRunId, job: job.name };
          process.stdout.write(flags.json ? JSON.stringify(info) + '\n' : `started ${handle.workflowId} (run ${handle.firstExecutionRunId})\n`);
          return;
        }
        await reportingWorkflowFailure('workflow', handle.workflowId, async () => {
          const result =
            job.workflowType === 'batchedPurge' ? await watch(handle, !flags.json && Boolean(process.stderr.isTTY)) : await handle.result();
          if (flags.json) process.stdout.write(JSON.stringify(result) + '\n');
          else process.stdout.write(job.workflowType === 'batchedPurge' ? renderPurgeResult(result as PurgeResult) : renderJobResult(job.workflowType, result));
          // A job that completed but could not do all it should (a provider down) fails the command for cron.
          if (jobResultFailed(job.workflowType, result)) process.exitCode = 1;
        }, { client, handle, taskQueue: target.taskQueue, namespace: target.namespace });
      } finally {
        await client.connection.close();
      }
    });
}
