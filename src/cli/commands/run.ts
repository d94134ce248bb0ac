import type { Command } from 'commander';
import type { WorkflowHandle } from '@temporalio/client';
import { BATCH_SIZE, DAYS, PARALLEL } from '../../purge/params.js';
import { BUDGETS, DEFAULT_BUDGET, SCHEDULE_BUDGET } from '../../purge/budget.js';
import { FRACTION_GUARD_MIN_ROWS, MAX_FRACTION } from '../../purge/breakers.js';
import { RUN_FLAGS, type RunFlag } from '../../catalogue/entry.js';
import { addKnobFlags, type KnobFlags } from '../budget-flags.js';
import { InputError } from '../../kernel/errors.js';
import type { Progress, PurgeResult } from '../../purge/types.js';
import { parseTaskQueueFlag, parseWorkflowIdFlag, resolveTemporal, reportingWorkflowFailure, type SettingsSource, type StartFlags, whileRunning } from '../context.js';
import { WORKFLOW_ID_MAX_LENGTH } from '../../kernel/limits.js';
import { renderResult, resultFailed } from '../render.js';
import { describeThrottle, estimateTotal, formatEta, throttleOf, Throughput, type BatchTrouble } from '../progress.js';

/** As commander hands them over: the job's parameters as typed, checked by the job's schema. */
interface RunFlags extends StartFlags, KnobFlags {
  dryRun?: boolean;
  batchSize?: string;
  asOf?: string;
  days?: string;
  types?: string;
  provider?: string[];
  refreshTokenExpireSeconds?: string;
  dotVersion?: string;
  refreshTokenGracePeriodSeconds?: string;
  refreshTokenReuseProtection?: boolean;
  djangoTimeZone?: string;
  userTable?: string;
  parallel?: string;
  vacuum?: boolean;
  maxRows?: string;
  maxDuration?: string;
  maxFraction?: string;
  workflowId?: string;
  explain?: boolean;
  budget?: string;
}

/** What the workflow's pending activities say: a batch failing and retrying (attempt, last error), a lane held by the brakes. */
async function batchTrouble(handle: WorkflowHandle): Promise<{ trouble: BatchTrouble | null; throttled: { reason: string; sinceMs: number | null } | null }> {
  const d = await handle.describe().catch(() => undefined);
  const pending = d?.raw.pendingActivities ?? [];
  const failing = pending.filter((a) => (a.attempt ?? 1) > 1 && a.lastFailure?.message);
  const worst = failing.sort((a, b) => (b.attempt ?? 0) - (a.attempt ?? 0))[0];
  const throttled = throttleOf(pending);
  return { trouble: worst ? { attempt: worst.attempt ?? 0, reason: String(worst.lastFailure!.message), activity: worst.activityType?.name ?? '' } : null, throttled };
}

/**
 * Waits for the result, showing progress from the workflow's `progress` query: a bar on a terminal, JSON lines on
 * stderr with --json off one. The total is estimateTotal's (never below what is done, absent when unknown), the rate
 * and ETA come from measured throughput, and a failing batch shows its reason and attempt as soon as it retries.
 */
async function watch(handle: WorkflowHandle, mode: 'bar' | 'json' | 'none'): Promise<PurgeResult> {
  if (mode === 'none') return handle.result() as Promise<PurgeResult>;
  const [{ default: cliProgress }, { progressQuery }] = await Promise.all([import('cli-progress'), import('../../temporal/queries.js')]);
  const throughput = new Throughput();
  let trouble: BatchTrouble | null = null;
  let throttled: { reason: string; sinceMs: number | null } | null = null;
  let lastTroubleCheck = 0;
  let lastJson = '';
  let lastJsonAt = 0;
  const bar =
    mode === 'bar'
      ? new cliProgress.SingleBar(
          {
            hideCursor: true,
            stream: process.stderr,
            format: (options, params, payload: { phase: string; line: string; known: boolean }) => {
              if (!payload.known) return ` ${payload.phase} | ${payload.line}`;
              const size = options.barsize ?? 40;
              const full = Math.round(Math.min(1, params.progress) * size);
              return ` ${payload.phase} |${(options.barCompleteString ?? '').slice(0, full)}${(options.barIncompleteString ?? '').slice(0, size - full)}| ${payload.line}`;
            },
          },
          cliProgress.Presets.shades_classic,
        )
      : undefined;
  bar?.start(1, 0, { phase: 'starting', line: 'waiting for the first batch', known: false });
  const show = (p: Progress) => {
    const done = p.dryRun ? (p.matched ?? 0) : p.deleted;
    throughput.add(done);
    const total = estimateTotal(p);
    const rate = throughput.rate();
    const eta = formatEta(done, total, rate);
    const step = (p.steps ?? 0) > 1 ? ` | step ${(p.step ?? 0) + 1}/${p.steps}` : '';
    const held = (p.control?.paused ? ' | paused by an operator (maint control --resume)' : p.control?.batchSize ? ` | batch size fixed at ${p.control.batchSize}` : '') + limitsText(p);
    const failing = (trouble ? ` | batch failing (attempt ${trouble.attempt}): ${trouble.reason}` : '') + (throttled ? ` | ${describeThrottle(throttled)}` : '') + held;
    const line = `${done}${total !== null ? `/${total}${p.dryRun ? '' : ' (estimated)'}` : ''} rows | ${p.batches} batches | ${rate === null ? '-' : Math.round(rate)} rows/s | ETA ${eta}${step}${failing}`;
    if (bar) {
      bar.setTotal(Math.max(total ?? done, 1));
      bar.update(done, { phase: p.phase, line, known: total !== null });
      return;
    }
    const json = JSON.stringify({ progress: { phase: p.phase, done, total, estimated: !p.dryRun, batches: p.batches, rowsPerSecond: rate, eta, step: (p.step ?? 0) + 1, steps: p.steps ?? 1, failing: trouble, throttled: throttled?.reason ?? null, throttledForSeconds: throttled?.sinceMs ? Math.round((Date.now() - throttled.sinceMs) / 1000) : null, throttle: p.throttle ?? null, control: p.control ?? null, limits: p.limits ?? null, stopping: p.stopping ?? null } });
    // Off a terminal, a line when something changed, at most every 2 s (a failing batch at once).
    if (json !== lastJson && (Date.now() - lastJsonAt >= 2_000 || trouble || throttled)) {
      process.stderr.write(json + '\n');
      lastJson = json;
      lastJsonAt = Date.now();
    }
  };
  try {
    const r = await whileRunning<PurgeResult, Progress>(handle, progressQuery, 300, (p) => {
      if (Date.now() - lastTroubleCheck > 2_000) {
        lastTroubleCheck = Date.now();
        void batchTrouble(handle).then((t) => ({ trouble, throttled } = t));
      }
      show(p);
    });
    const done = r.dryRun ? (r.matched ?? 0) : r.deleted;
    bar?.setTotal(Math.max(done, 1));
    bar?.update(done, { phase: 'done', line: `${done}/${done} rows | ${r.batches} batches`, known: true });
    return r;
  } finally {
    bar?.stop();
  }
}

/** The run's row cap and time limit on the progress line, and the one that is ending it. */
function limitsText(p: Progress): string {
  const l = p.limits;
  const parts = [...(l?.maxRows !== undefined ? [`max ${l.maxRows} rows`] : []), ...(l?.stopsAt ? [`stops at ${l.stopsAt}`] : [])];
  return (parts.length ? ` | ${parts.join(', ')}` : '') + (p.stopping ? ` | stopping: ${p.stopping} reached` : '');
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
  const run = program
    .command('run')
    .description('start a maintenance job as a Temporal workflow')
    .argument('<job>', 'job name (see `maint jobs`)')
    .option('--dry-run', 'report what would change (purges, keypair-cleanup, scopes); change nothing')
    .option('--batch-size <n>', `purges: rows per batch transaction (${BATCH_SIZE.min}-${BATCH_SIZE.max}, default ${BATCH_SIZE.default})`)
    .option('--as-of <timestamp>', 'purges: reference time, ISO 8601 with a time zone (2026-03-07T10:00:00Z) or a date (UTC midnight), not in the future; default: now')
    .option('--days <n>', `purges that take it: retention in days (${DAYS.min}-${DAYS.max}; see \`maint jobs\`)`)
    .option('--types <a,b>', 'purges that select by type: the token types (see `maint jobs`)')
    .option('--refresh-token-expire-seconds <n>', "django-oauth-toolkit-cleartokens: the app's REFRESH_TOKEN_EXPIRE_SECONDS (unset: no refresh token is deleted, as cleartokens does)")
    .option('--dot-version <v>', 'django-oauth-toolkit-cleartokens: the django-oauth-toolkit version the app runs (e.g. 1.7, 2.4, 3.3, 3.4.1)')
    .option('--refresh-token-grace-period-seconds <n>', "django-oauth-toolkit-cleartokens, 3.4.0 and later: the app's REFRESH_TOKEN_GRACE_PERIOD_SECONDS (default 0)")
    .option('--refresh-token-reuse-protection', "django-oauth-toolkit-cleartokens, 3.4.0 and later: the app sets REFRESH_TOKEN_REUSE_PROTECTION = True")
    .option('--django-time-zone <zone>', "django-simplejwt-flush-expired: the app's TIME_ZONE when it runs with USE_TZ = False (IANA name, e.g. Europe/Berlin)")
    .option('--user-table <table>', "hidp-remove-stale-unverified-accounts: the AUTH_USER_MODEL's table (default: the one hidp_accounts_emailchangerequest references)")
    .option('--parallel <n>', `purges: lanes worked at once, on any workers of the queue (${PARALLEL.min}-${PARALLEL.max}; default ${PARALLEL.default} on large tables, 1 on small ones)`)
    .option('--vacuum', 'purges: VACUUM (ANALYZE) the tables the run changed once it is done (cancellable; reported with the result)')
    .option('--budget <name>', `purges: the impact budget, ${BUDGETS.join(', ')} (default ${DEFAULT_BUDGET}; schedules use ${SCHEDULE_BUDGET}); each knob below overrides it, within the worker's MAINT_BRAKE_* limits`);
  addKnobFlags(run, (meaning) => `purges: ${meaning}`)
    .option('--max-rows <n>', 'purges: stop cleanly once the run deleted or updated this many rows (all steps together; status partial, the next run goes on)')
    .option('--max-duration <time>', 'purges: stop cleanly between batches this long after the start (seconds, or 90s, 30m, 2h; at most 7d; status partial, the next run goes on)')
    .option('--max-fraction <share>', `purges: refuse, before the first batch, a step that would change more than this share of its table (0 to 1; default ${MAX_FRACTION.accounts} for jobs that delete accounts, off for the others; 1 turns it off; tables under ${FRACTION_GUARD_MIN_ROWS} rows are not checked)`)
    .option('--provider <name>', 'refresh-jwks: only this provider (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--wait', 'wait for the result (purges show a progress bar)')
    .option('--explain', 'with --dry-run --wait: print the EXPLAIN of one batch of each step')
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
          const result = job.purge ? await watch(handle, process.stderr.isTTY ? (flags.json ? 'none' : 'bar') : flags.json ? 'json' : 'none') : await handle.result();
          process.stdout.write(flags.json ? JSON.stringify(result) + '\n' : renderResult(job, result, { explain: flags.explain }));
          // A job that completed but could not do all it should (a provider down) fails the command for cron.
          if (resultFailed(job, result)) process.exitCode = 1;
        }, { client, handle, taskQueue: target.taskQueue, namespace: target.namespace });
      } finally {
        await client.connection.close();
      }
    });
}
