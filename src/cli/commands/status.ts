import type { Command } from 'commander';
import type { Client } from '@temporalio/client';
import { withPoolDb } from '../../db/query.js';
import { BATCH_FAILING, lastRunPerJob } from '../../db/run-record.js';
import { listKeys } from '../../keys/store.js';
import type { KeyRow } from '../../keys/types.js';
import { table } from '../../kernel/text.js';
import { commandDatabase, parseTaskQueueFlag, resolveTemporal, type ConnectionFlags, type SettingsSource } from '../context.js';
import { startRotation } from './keys.js';
import type { Db } from '../../db/query.js';
import type { Catalogue } from '../../catalogue/index.js';
import { parsePurgeParams } from '../../purge/params.js';
import { backlogOf, resolveSteps, type Backlog } from '../../../activities/purge/resolve.js';
import type { Progress } from '../../purge/types.js';

type Flags = ConnectionFlags & { json?: boolean; databaseUrl?: string; count?: boolean };

function withFlags(cmd: Command): Command {
  return cmd
    .option('--json', 'print JSON')
    .option('--address <host:port>', 'Temporal frontend address')
    .option('--namespace <ns>', 'Temporal namespace')
    .option('--task-queue <name>', 'task queue of the worker', parseTaskQueueFlag)
    .option('--database-url <url>', 'database (default: DATABASE_URL, else the local environment)');
}

async function withClient<T>(settings: SettingsSource, flags: Flags, fn: (client: Client, taskQueue: string, namespace: string) => Promise<T>): Promise<T> {
  const target = await resolveTemporal(await settings(), flags);
  const { connectClient } = await import('../../temporal/connect.js');
  const client = await connectClient(target);
  try {
    return await fn(client, target.taskQueue, target.namespace);
  } finally {
    await client.connection.close();
  }
}

const iso = (v: unknown) => (v ? new Date(v as string).toISOString() : null);

/**
 * Each purge job's backlog: the rows it would delete or update if it ran now with its defaults (counted, or the
 * planner's estimate on big tables unless `exact`). A job whose tables are not in this database (a preset of another app) is left out.
 */
async function backlogs(db: Db, catalogue: Catalogue, exact: boolean): Promise<Map<string, Backlog>> {
  const out = new Map<string, Backlog>();
  for (const job of catalogue.purges()) {
    const params = parsePurgeParams(job.defaultBatchSize ? { batchSize: job.defaultBatchSize } : {});
    const steps = await resolveSteps(db, job, params).catch(() => undefined);
    if (steps) out.set(job.name, await backlogOf(db, steps, exact));
  }
  return out;
}

/** What an operator checks first: the signing key and when it is due, each job's last run, paused schedules, what runs now. */
async function gatherStatus(settings: SettingsSource, flags: Flags) {
  const s = await settings();
  const database = await commandDatabase(s, flags.databaseUrl, 2);
  const { keys, runs, backlog } = await withPoolDb(database, async (db) => ({
    keys: await listKeys(db),
    runs: await lastRunPerJob(db),
    backlog: await backlogs(db, s.catalogue, flags.count === true),
  }));
  const signing = keys.find((k) => k.state === 'active') ?? null;
  const standby = keys.filter((k) => k.state === 'pending' || k.state === 'published');
  const rotateAfterMs = s.config.keyPolicy.rotateAfterSeconds * 1000;
  return withClient(settings, flags, async (client, taskQueue, namespace) => {
    const { MANAGED_BY } = await import('../../temporal/labels.js');
    const paused: Array<{ id: string; note: string }> = [];
    let rotationCheck: string | null = null;
    for await (const sch of client.schedule.list()) {
      if (sch.memo?.managedBy !== MANAGED_BY) continue;
      if (sch.state.paused) paused.push({ id: sch.scheduleId, note: sch.state.note ?? '' });
      if (sch.memo?.job === 'key-rotation' && sch.info.nextActionTimes[0]) rotationCheck = sch.info.nextActionTimes[0].toISOString();
    }
    const running: Array<{ workflowId: string; type: string; startedAt: string; state?: string }> = [];
    for await (const wf of client.workflow.list({ query: `ExecutionStatus = 'Running' AND TaskQueue = '${taskQueue}'` })) {
      running.push({ workflowId: wf.workflowId, type: wf.type, startedAt: wf.startTime.toISOString() });
    }
    // A running purge says where it is and what holds it: an operator's pause or a brake must not look like work.
    await Promise.all(
      running
        .filter((r) => r.type === 'batchedPurge')
        .map(async (r) => {
          const p = await purgeProgress(client, r.workflowId);
          if (p) r.state = describePurgeState(r.workflowId, p);
          // Its batches failing and retrying (on its record: attempt and reason) must not read as progress either.
          const failing = runs.find((x) => String(x.workflow_id) === r.workflowId && x.status === 'running' && String(x.error ?? '').startsWith(BATCH_FAILING));
          if (failing) r.state = `${r.state ?? 'running'}, ${String(failing.error)}`;
        }),
    );
    return {
      namespace,
      taskQueue,
      keys: {
        signing: signing ? { kid: signing.kid, alg: signing.alg, activatedAt: signing.activatedAt } : null,
        // By this machine's KEY_ROTATE_AFTER_DAYS; the weekly schedule checks and rotates once it has passed.
        rotationDueAt: signing?.activatedAt ? new Date(Date.parse(signing.activatedAt) + rotateAfterMs).toISOString() : null,
        nextRotationCheck: rotationCheck,
        standby: standby.map((k: KeyRow) => k.kid),
      },
      lastRuns: runs.map((r) => ({ job: String(r.job), status: String(r.status), dryRun: Boolean(r.dry_run), trigger: String(r.trigger), deleted: Number(r.deleted ?? 0), startedAt: iso(r.started_at), error: (r.error as string | null) ?? null, workflowId: String(r.workflow_id) })),
      // Rows each purge would take now, counted or the planner's estimate.
      backlog: Object.fromEntries([...backlog].sort(([a], [b]) => a.localeCompare(b))),
      pausedSchedules: paused.sort((a, b) => a.id.localeCompare(b.id)),
      running: running.sort((a, b) => a.startedAt.localeCompare(b.startedAt)),
    };
  });
}

type Status = Awaited<ReturnType<typeof gatherStatus>>;

/** A running purge's progress, or undefined when no worker answers within 2 s (the listing goes on without it). */
async function purgeProgress(client: Client, workflowId: string): Promise<Progress | undefined> {
  const { progressQuery } = await import('../../temporal/queries.js');
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), 2_000)));
  try {
    return await Promise.race([client.workflow.getHandle(workflowId).query(progressQuery).catch(() => undefined), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** "deleting: changed 1200 of ~5000 rows, paused by an operator (`maint control ID --resume`)", or throttled and why. */
export function describePurgeState(workflowId: string, p: Progress): string {
  const changed = p.dryRun ? 'would change' : 'changed';
  const of = p.matched !== null ? ` of ${p.dryRun ? '' : '~'}${p.matched}` : '';
  const held = p.control?.paused
    ? `, paused by an operator (\`maint control ${workflowId} --resume\`)`
    : p.throttle?.reason
      ? `, throttled${p.throttle.since ? ` since ${p.throttle.since}` : ''}: ${p.throttle.reason}`
      : '';
  return `${p.phase}: ${changed} ${p.deleted}${of} rows${held}`;
}

/** One row per job that has run or has tables here: its backlog beside its last run. */
function jobRows(st: Status): Array<Array<string | number | null>> {
  const jobs = [...new Set([...Object.keys(st.backlog), ...st.lastRuns.map((r) => r.job)])].sort();
  return jobs.map((job) => {
    const r = st.lastRuns.find((x) => x.job === job);
    const b = st.backlog[job];
    const backlog = b === undefined ? '-' : b.counted ? b.rows : `~${b.rows}`;
    return r ? [job, backlog, `${r.status}${r.dryRun ? ' (dry run)' : ''}`, r.startedAt, r.trigger, r.deleted, r.error ?? ''] : [job, backlog, 'never', '', '', '', ''];
  });
}

function renderStatus(st: Status, flags: Flags): string {
  const k = st.keys;
  const lines = [
    `namespace ${st.namespace}, task queue ${st.taskQueue}`,
    '',
    k.signing ? `signing key      ${k.signing.kid} (${k.signing.alg}) since ${k.signing.activatedAt}` : 'signing key      none: run `maint init`',
    `rotation due     ${k.rotationDueAt ?? '-'}${k.nextRotationCheck ? `   next check ${k.nextRotationCheck}` : ''}`,
    `standby keys     ${k.standby.join(', ') || '-'}`,
    '',
    flags.count ? 'each job: its backlog (rows it would take now, counted) and last run' : 'each job: its backlog (rows it would take now; ~: the planner\'s estimate, on tables over a million rows) and last run',
    jobRows(st).length
      ? table(['job', 'backlog', 'last run', 'started', 'trigger', 'deleted', 'error'], jobRows(st))
      : '  (no job has run, and no purge\'s tables are in this database)',
    '',
    `paused schedules ${st.pausedSchedules.length ? '' : '-'}`,
    ...st.pausedSchedules.map((p) => `  ${p.id}: ${p.note}`),
    `running now      ${st.running.length ? '' : '-'}`,
    ...st.running.map((r) => `  ${r.workflowId} (${r.type}) since ${r.startedAt}${r.state ? ` · ${r.state}` : ''}`),
  ];
  return lines.join('\n') + '\n';
}

export function registerStatus(program: Command, settings: SettingsSource): void {
  withFlags(program.command('status').description('signing key and next rotation, each job\'s backlog and last run, paused schedules, what runs now (seed: jwt_manage status)'))
    .option('--count', 'count each purge\'s backlog exactly also on tables over a million rows (reads the matching rows), instead of the planner\'s estimate')
    .action(
    async (flags: Flags) => {
      const st = await gatherStatus(settings, flags);
      process.stdout.write(flags.json ? JSON.stringify(st) + '\n' : renderStatus(st, flags));
    },
  );

  withFlags(program.command('init').description('first signing key and the default scopes, now; does nothing that is already there (seed: jwt_manage init)')).action(async (flags: Flags) => {
    const s = await settings();
    const keys = await withPoolDb(await commandDatabase(s, flags.databaseUrl, 1), (db) => listKeys(db));
    const out: Record<string, unknown> = {};
    if (keys.some((k) => k.state === 'active')) {
      out.key = { status: 'exists', kid: keys.find((k) => k.state === 'active')!.kid };
      if (!flags.json) process.stdout.write(`signing key ${String((out.key as { kid: string }).kid)} exists; no rotation started\n`);
    } else {
      // No key has ever signed, so no verifier caches one to wait for: the first key signs at once.
      const result = await startRotation(settings, { ...flags, wait: true }, { jwksCacheSeconds: 0 }, false);
      out.key = result;
    }
    const { connectClient } = await import('../../temporal/connect.js');
    const { startJob } = await import('../../start-job.js');
    const target = await resolveTemporal(s, flags);
    const client = await connectClient(target);
    try {
      const { handle } = await startJob(client, { job: 'scopes', taskQueue: target.taskQueue, trigger: 'cli' }, s.catalogue);
      const scopes = (await handle.result()) as { created: string[]; existing: string[] };
      out.scopes = scopes;
      process.stdout.write(
        flags.json ? JSON.stringify(out) + '\n' : `scopes           created: ${scopes.created.join(', ') || '-'}; already there: ${scopes.existing.join(', ') || '-'}\n`,
      );
    } finally {
      await client.connection.close();
    }
  });
}
