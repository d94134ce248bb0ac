import type { Db } from './query.js';
import type { PurgeResult, RunStatus, StepPlanSummary } from '../purge/types.js';
import type { PurgeAftermath } from '../purge/aftermath.js';
import type { RunForRates } from '../health/purge-rates.js';
import { toNumber } from '../kernel/counts.js';
import { auditTrigger, type ScheduledStart } from '../temporal/schedule-origin.js';

/**
 * The run record: the `maintenance_run` row every job run leaves as its audit trail. Every statement that reads or
 * writes it is here; the activities, the CLI, the report, the notifications and the metrics call these.
 */

/** What identifies a run and how it was asked for. */
export interface RunIdentity {
  runId: string;
  workflowId: string;
  job: string;
  parameters: Record<string, unknown>;
  trigger: string;
  dryRun: boolean;
  /** A schedule's start: its nominal time and declared spec, which tell a tick from a trigger or a backfill. */
  scheduled?: ScheduledStart;
}

export interface StartRunInput extends RunIdentity {
  cutoff: string;
  startedAt: string;
  /** Recorded by the current workflow: what a continued run must find again. */
  runTime?: string;
  cutoffs?: string[];
  fingerprint?: string;
}

/** What a run fixed at its start, as its record keeps it: a continued run takes these from here. */
export interface RecordedRun {
  runTime: string;
  cutoffs: string[];
  startedAtMs: number;
}

export interface FinishRunInput {
  runId: string;
  status: RunStatus;
  dryRun: boolean;
  matched: number | null;
  /** Dry runs have no ledger; their would-be counts are recorded as matched. */
  finishedAt: string;
  error?: string;
  /** Names of the steps of a multi-step job, to report counts per step. */
  stepNames?: string[];
  /** How each step walked its table (the current workflow). */
  plans?: StepPlanSummary[];
  /** Rows left locked (current workflow): with the ledger's counts, they make an exact `matched` when none is given. */
  leftLocked?: number;
  /** What the run left behind (patch `purge-aftermath`); its VACUUM's time is not counted in rows per second. */
  aftermath?: PurgeAftermath;
  /** Time an operator's pause held the run: like a VACUUM's, not counted in rows per second. */
  pausedMs?: number;
}

/** The record of a non-purge job, written once at its end. */
export interface JobRunRecord extends RunIdentity {
  status: RunStatus;
  startedAt: string;
  finishedAt: string;
  /** Items the job looked at (keys, providers, scopes). */
  matched: number | null;
  /** Rows it deleted (keypair cleanup), 0 for jobs that delete nothing. */
  deleted: number;
  /** Other counts, by name (e.g. withdrawn keys, created scopes, failed providers). */
  counts: Record<string, number>;
  error?: string | null;
}


/** Who writes a record: the workflow's run id (its chain's first run) and the Temporal run the activity serves. */
export interface Writer {
  runId: string;
  executionRunId: string;
}

/** The row an execution writes: its id, whether it exists, and the row it replaces (a reset or retried execution). */
export interface RecordRef {
  id: string;
  exists: boolean;
  replaces: string | null;
}

/**
 * Which row an execution writes. A run's row is keyed by its chain's first run id, and the executions of one
 * continue-as-new chain share it (each claims it as it continues, see `loadRun`). An execution that finds it written
 * by another one of the same workflow (a `temporal workflow reset`, a retried workflow) leaves that row as it ended
 * and writes its own, keyed by its own run id and linked to the row it replaces (the chain's latest).
 */
export async function recordOf(db: Db, w: Writer): Promise<RecordRef> {
  const [mine] = await db.query<{ id: string }>('SELECT id FROM maintenance_run WHERE execution_run_id = ?', [w.executionRunId]);
  if (mine) return { id: mine.id, exists: true, replaces: null };
  const [chain] = await db.query<{ execution_run_id: string | null }>('SELECT execution_run_id FROM maintenance_run WHERE id = ?', [w.runId]);
  // No row yet; or one written before rows knew their execution (written as before).
  if (!chain || chain.execution_run_id === null) return { id: w.runId, exists: Boolean(chain), replaces: null };
  const [latest] = await db.query<{ id: string }>(
    'SELECT id FROM maintenance_run r WHERE first_run_id = ? AND NOT EXISTS (SELECT 1 FROM maintenance_run n WHERE n.replaces = r.id) LIMIT 1',
    [w.runId],
  );
  return { id: w.executionRunId, exists: false, replaces: latest?.id ?? w.runId };
}

/** The lineage columns of a new row. */
function lineage(ref: RecordRef, w: Writer): unknown[] {
  return [w.executionRunId, w.runId, ref.replaces];
}

/**
 * Creates a purge's record; idempotent, so a retried start does not duplicate it. `exclusive`: it holds its job while
 * it runs. The server's WAL insert position is kept with it: the aftermath reports the WAL written since.
 */
export async function startRun(db: Db, r: StartRunInput & { executionRunId: string; exclusive?: boolean }): Promise<void> {
  const ref = await recordOf(db, r);
  if (ref.exists) return;
  await db.query(
    `INSERT INTO maintenance_run (id, workflow_id, job, parameters, trigger, dry_run, status, cutoff, started_at, run_time, cutoffs, fingerprint,
                                  execution_run_id, first_run_id, replaces, exclusive, wal_start_lsn)
     VALUES (?, ?, ?, ?::jsonb, ?, ?, 'running', ?, ?, ?, ?::jsonb, ?, ?, ?, ?, ?, pg_current_wal_insert_lsn()::text) ON CONFLICT (id) DO NOTHING`,
    [ref.id, r.workflowId, r.job, JSON.stringify(r.parameters), auditTrigger(r.trigger, r.scheduled), r.dryRun, r.cutoff, r.startedAt,
      r.runTime ?? null, r.cutoffs ? JSON.stringify(r.cutoffs) : null, r.fingerprint ?? null, ...lineage(ref, r), r.exclusive ?? false],
  );
}

/** The running purge that holds a job (see `exclusive`), if any. */
export async function holderOf(db: Db, job: string): Promise<{ id: string; workflow_id: string } | undefined> {
  const [row] = await db.query<{ id: string; workflow_id: string }>(`SELECT id, workflow_id FROM maintenance_run WHERE job = ? AND exclusive AND status = 'running'`, [job]);
  return row;
}

/** Closes a running row whose execution can no longer close it (it was terminated, reset or timed out). */
export async function abandonRun(db: Db, id: string, reason: string, at: string): Promise<void> {
  await db.query(
    `UPDATE maintenance_run SET status = 'failed', error = ?, finished_at = ?,
            duration_ms = greatest(0, (extract(epoch FROM ?::timestamptz - started_at) * 1000)::bigint) WHERE id = ? AND status = 'running'`,
    [reason, at, at, id],
  );
}

/** What a continued run checks in the record of the run it continues (times as the driver returns them). */
export interface StartedRunRow {
  job: string;
  status: string;
  run_time: string | Date | null;
  cutoffs: unknown;
  fingerprint: string | null;
  started_at: string | Date;
}

/**
 * The record a continued run goes on with: the one its previous execution wrote, which it claims (the writer of the
 * chain's row is always its latest execution); rows written before rows knew their execution by the run id.
 */
export async function loadRun(db: Db, w: Writer & { continuedFrom?: string }): Promise<StartedRunRow | undefined> {
  if (w.continuedFrom) {
    await db.query('UPDATE maintenance_run SET execution_run_id = ? WHERE execution_run_id = ? AND first_run_id = ?', [w.executionRunId, w.continuedFrom, w.runId]);
  }
  const [row] = await db.query<StartedRunRow>(
    `SELECT job, status, run_time, cutoffs, fingerprint, started_at FROM maintenance_run
      WHERE execution_run_id = ? OR (id = ? AND execution_run_id IS NULL) LIMIT 1`,
    [w.executionRunId, w.runId],
  );
  return row;
}

/**
 * Records a run refused before it changed anything (a bad input, a missing table, a forged state, its job already
 * running), or marks its record so: the audit has every run, with its job, trigger and reason.
 */
export async function refuseRun(
  db: Db,
  r: Writer & { workflowId: string; job: string; trigger: string; error: string; at: string; dryRun?: boolean; status?: 'failed' | 'cancelled'; scheduled?: ScheduledStart },
): Promise<void> {
  const ref = await recordOf(db, r);
  await db.query(
    `INSERT INTO maintenance_run (id, workflow_id, job, parameters, trigger, dry_run, status, started_at, finished_at, duration_ms, error,
                                  execution_run_id, first_run_id, replaces)
     VALUES (?, ?, ?, '{}'::jsonb, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, finished_at = EXCLUDED.finished_at, error = EXCLUDED.error`,
    [ref.id, r.workflowId, r.job, auditTrigger(r.trigger, r.scheduled), r.dryRun ?? false, r.status ?? 'failed', r.at, r.at, r.error, ...lineage(ref, r)],
  );
}

/** What a running purge's record says while its batches fail and retry: `maint runs` shows it, and a cancel keeps it. */
export const BATCH_FAILING = 'batch failing: ';

/**
 * Notes on a running record why its batch failed (attempt and reason), so the audit still has it when the run is
 * cancelled while it retries; a later batch that commits clears it (`clearBatchFailure`).
 */
export async function noteBatchFailure(db: Db, recordId: string, reason: string): Promise<void> {
  await db.query(`UPDATE maintenance_run SET error = ? WHERE id = ? AND status = 'running'`, [`${BATCH_FAILING}${reason}`.slice(0, 2000), recordId]);
}

export async function clearBatchFailure(db: Db, recordId: string): Promise<void> {
  await db.query(`UPDATE maintenance_run SET error = NULL WHERE id = ? AND status = 'running' AND starts_with(error, ?)`, [recordId, BATCH_FAILING]);
}

/** Closes a purge's record with counts summed from its batch ledger, the one source of truth. */
export async function finishRun(db: Db, finishing: FinishRunInput & { executionRunId: string }): Promise<Omit<PurgeResult, 'job' | 'dryRun' | 'cutoff'>> {
  const ref = await recordOf(db, finishing);
  if (!ref.exists && ref.replaces) {
    // Reset past its start: the new execution's row starts as the one it replaces did.
    await db.query(
      `INSERT INTO maintenance_run (id, workflow_id, job, parameters, trigger, dry_run, status, cutoff, started_at, run_time, cutoffs, fingerprint,
                                    execution_run_id, first_run_id, replaces, wal_start_lsn)
       SELECT ?, workflow_id, job, parameters, trigger, dry_run, 'running', cutoff, started_at, run_time, cutoffs, fingerprint, ?, ?, ?, wal_start_lsn
         FROM maintenance_run WHERE id = ? ON CONFLICT (id) DO NOTHING`,
      [ref.id, ...lineage(ref, finishing), ref.replaces],
    );
  }
  // The counts are those of this execution's row and ledger.
  const input = { ...finishing, runId: ref.id };
  const [sums] = await db.query(
    `SELECT count(*)::int AS batches, coalesce(sum(deleted), 0)::bigint AS deleted,
            coalesce((SELECT jsonb_object_agg(k, v) FROM (SELECT key AS k, sum(value::bigint) AS v
              FROM purge_batch, jsonb_each_text(children) WHERE run_id = ? GROUP BY key) s), '{}'::jsonb) AS children
       FROM purge_batch WHERE run_id = ?`,
    [input.runId, input.runId],
  );
  const [run] = await db.query('SELECT started_at FROM maintenance_run WHERE id = ?', [input.runId]);
  const perStep = await db.query(
    'SELECT step, sum(deleted)::bigint AS deleted, sum(updated)::bigint AS updated FROM purge_batch WHERE run_id = ? GROUP BY step',
    [input.runId],
  );
  const updated = perStep.reduce((a, r) => a + toNumber(r.updated), 0);
  const steps = input.stepNames
    ? Object.fromEntries(input.stepNames.map((name, i) => { const r = perStep.find((p) => toNumber(p.step) === i); return [name, toNumber(r?.deleted) + toNumber(r?.updated)]; }))
    : undefined;
  const deleted = toNumber(sums?.deleted);
  const children = Object.fromEntries(Object.entries((sums?.children ?? {}) as Record<string, unknown>).map(([k, v]) => [k, toNumber(v)]));
  const startedAt = run ? new Date(run.started_at as string).getTime() : Date.parse(input.finishedAt);
  const durationMs = Math.max(0, Date.parse(input.finishedAt) - startedAt);
  // The rate of changing rows: a VACUUM asked for at the end and an operator's pause are not part of it.
  const vacuumMs = input.aftermath?.vacuum && 'durationMs' in input.aftermath.vacuum ? input.aftermath.vacuum.durationMs : 0;
  const pausedMs = Math.min(durationMs, Math.max(0, Math.round(input.pausedMs ?? 0)));
  const changingMs = Math.max(0, durationMs - vacuumMs - pausedMs);
  const rowsPerSecond = input.dryRun || changingMs === 0 ? null : Math.round(((deleted + updated) / changingMs) * 1000 * 10) / 10;
  const matched = input.matched ?? (input.leftLocked !== undefined ? deleted + updated + input.leftLocked : null);
  // A run cancelled while its batches failed keeps why they failed beside the cancel.
  const [noted] = input.status === 'cancelled' ? await db.query<{ error: string | null }>('SELECT error FROM maintenance_run WHERE id = ?', [input.runId]) : [];
  const failing = noted?.error?.startsWith(BATCH_FAILING) ? noted.error.slice(BATCH_FAILING.length) : null;
  const error = failing ? `${input.error ?? 'cancelled'} while a batch was failing (${failing})` : (input.error ?? null);
  await db.query(
    `UPDATE maintenance_run SET status = ?, matched = ?, deleted = ?, updated = ?, children_deleted = ?::jsonb, steps = ?::jsonb,
            batches = ?, finished_at = ?, duration_ms = ?, rows_per_second = ?, error = ?, plan = coalesce(?::jsonb, plan), aftermath = coalesce(?::jsonb, aftermath) WHERE id = ?`,
    [input.status, matched, deleted, updated, JSON.stringify(children), steps ? JSON.stringify(steps) : null, toNumber(sums?.batches), input.finishedAt, durationMs, rowsPerSecond, error,
      input.plans ? JSON.stringify(input.plans.map(({ explain: _e, ...p }) => p)) : null, input.aftermath ? JSON.stringify(input.aftermath) : null, input.runId],
  );
  return {
    runId: finishing.runId,
    status: input.status,
    matched,
    deleted,
    ...(updated || steps ? { updated } : {}),
    children,
    ...(steps ? { steps } : {}),
    batches: toNumber(sums?.batches),
    durationMs,
    ...(pausedMs ? { pausedMs } : {}),
    rowsPerSecond,
  };
}

/**
 * The record of a non-purge job, written once at its end; a retried activity rewrites the same row, a reset or
 * retried execution writes its own (see `recordOf`).
 */
export async function recordJobRun(db: Db, r: JobRunRecord & { executionRunId: string }): Promise<void> {
  const ref = await recordOf(db, r);
  const durationMs = Math.max(0, Date.parse(r.finishedAt) - Date.parse(r.startedAt));
  await db.query(
    `INSERT INTO maintenance_run (id, workflow_id, job, parameters, trigger, dry_run, status, matched, deleted, children_deleted, batches,
                                  started_at, finished_at, duration_ms, error, execution_run_id, first_run_id, replaces)
     VALUES (?, ?, ?, ?::jsonb, ?, ?, ?, ?, ?, ?::jsonb, 0, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET status = excluded.status, matched = excluded.matched, deleted = excluded.deleted,
       children_deleted = excluded.children_deleted, finished_at = excluded.finished_at, duration_ms = excluded.duration_ms, error = excluded.error`,
    [ref.id, r.workflowId, r.job, JSON.stringify(r.parameters), auditTrigger(r.trigger, r.scheduled), r.dryRun, r.status, r.matched, r.deleted, JSON.stringify(r.counts),
      r.startedAt, r.finishedAt, durationMs, r.error ?? null, ...lineage(ref, r)],
  );
}

/** Recent runs, newest first (`maint runs`). */
export async function listRuns(db: Db, opts: { job?: string; limit: number }): Promise<Array<Record<string, any>>> {
  return db.query(
    `SELECT id, workflow_id, job, trigger, dry_run, status, matched, deleted, children_deleted, batches, cutoff,
            started_at, finished_at, duration_ms, rows_per_second, error, replaces, aftermath
       FROM maintenance_run WHERE (?::text IS NULL OR job = ?) ORDER BY started_at DESC LIMIT ?`,
    [opts.job ?? null, opts.job ?? null, opts.limit],
  );
}

/** One run in full (`maint runs <id>`), by its run id or its workflow id (the latest row of that workflow). */
export async function runDetail(db: Db, ref: string): Promise<Record<string, any> | undefined> {
  const [row] = await db.query(
    `SELECT id, workflow_id, job, parameters, trigger, dry_run, status, matched, deleted, updated, children_deleted, steps, batches, cutoff, cutoffs,
            started_at, finished_at, duration_ms, rows_per_second, error, replaces, plan, aftermath
       FROM maintenance_run WHERE id = ? OR workflow_id = ? ORDER BY started_at DESC LIMIT 1`,
    [ref, ref],
  );
  return row;
}

/** A finished run's outcome, as its notifications tell it. */
export async function loadRunOutcome<T>(db: Db, runId: string): Promise<T | undefined> {
  const [run] = await db.query<T>(
    `SELECT id, workflow_id, job, trigger, dry_run, status, matched, deleted, updated, children_deleted, batches, started_at, finished_at, duration_ms, error
       FROM maintenance_run WHERE id = ?`,
    [runId],
  );
  return run;
}

/** When the first recorded run of a job started (ISO), or null. */
export async function firstRunStartedAt(db: Db, job: string): Promise<string | null> {
  const [row] = await db.query<{ at: string | Date | null }>('SELECT min(started_at) AS at FROM maintenance_run WHERE job = ?', [job]);
  return row?.at ? new Date(row.at).toISOString() : null;
}

/** Whether a run of this workflow wrote its record. */
export async function isAudited(db: Db, workflowId: string): Promise<boolean> {
  return (await db.query('SELECT 1 FROM maintenance_run WHERE workflow_id = ? LIMIT 1', [workflowId])).length > 0;
}

/** The job of a run, or 'unknown'. */
export async function jobOfRun(db: Db, runId: string): Promise<string> {
  const [r] = await db.query<{ job: string }>('SELECT job FROM maintenance_run WHERE id = ?', [runId]);
  return r?.job ?? 'unknown';
}

/** Runs started in the last 24 hours, by status, with their jobs. */
export async function runsOfLastDay(db: Db): Promise<Array<{ status: string; n: number; jobs: string[] }>> {
  return db.query(
    `SELECT status, count(*)::int AS n, array_agg(DISTINCT job) AS jobs FROM maintenance_run WHERE started_at > now() - interval '24 hours' GROUP BY status`,
  );
}

/**
 * Per job, the runs of the last `days` days that changed something (not dry runs): counts, rows, dependents,
 * median and total duration, last success and failure; and where that window starts.
 */
export async function runStatsByJob(db: Db, days: number): Promise<{ since: string | Date; jobs: Array<Record<string, unknown>> }> {
  const jobs = await db.query(
    `SELECT job, count(*)::int AS runs,
            count(*) FILTER (WHERE status = 'failed')::int AS failures,
            coalesce(sum(deleted + updated), 0)::bigint AS rows,
            coalesce(sum((SELECT coalesce(sum(value::bigint), 0) FROM jsonb_each_text(CASE WHEN batches > 0 THEN children_deleted ELSE '{}'::jsonb END))), 0)::bigint AS dependents,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms) AS median_ms,
            sum(duration_ms)::bigint AS total_ms,
            max(finished_at) FILTER (WHERE status = 'completed') AS last_success,
            max(finished_at) FILTER (WHERE status = 'failed') AS last_failure,
            (now() - make_interval(days => ?::int)) AS since
       FROM maintenance_run
      -- Runs that changed something, and every failure: a dry run that failed failed too.
      WHERE (NOT dry_run OR status = 'failed') AND started_at > now() - make_interval(days => ?::int)
      GROUP BY job ORDER BY job`,
    [days, days],
  );
  const [since] = jobs.length ? jobs : await db.query('SELECT now() - make_interval(days => ?::int) AS since', [days]);
  return { since: since!.since as string | Date, jobs };
}

/** A real purge's estimate of the rows it matches, on the row its execution wrote at its start. */
export async function recordEstimate(db: Db, executionRunId: string, estimated: number): Promise<void> {
  await db.query(`UPDATE maintenance_run SET estimated_matching = ? WHERE execution_run_id = ? AND status = 'running'`, [estimated, executionRunId]);
}

/**
 * Per job, what its latest live run matched and has not deleted or updated yet: exact once the run completed (rows
 * left locked), the estimate its aftermath recorded after it stopped early (partial, failed, cancelled), and while it
 * runs the estimate recorded at its start less what its batches changed (a run from before that estimate: 0).
 */
export async function backlogByJob(db: Db): Promise<Array<{ job: string; left: number }>> {
  return db.query(
    // A run that ended before its end (partial, failed, cancelled) left what its aftermath says: the estimate of the
    // matching rows at its start less what it changed. The plan's estimatedRows are the table's rows, not the matching
    // ones: only a run from before aftermaths falls back to them.
    `SELECT job, greatest(coalesce(CASE WHEN status = 'completed' THEN matched - done END,
                                   CASE WHEN status <> 'running' THEN (aftermath #>> '{backlog,left}')::bigint END,
                                   CASE WHEN status = 'running' THEN estimated_matching - done END,
                                   estimated - done, matched - done, 0), 0) AS left
       FROM (SELECT DISTINCT ON (job) job, status, matched, aftermath, estimated_matching,
                    coalesce((SELECT sum(deleted + updated) FROM purge_batch b WHERE b.run_id = maintenance_run.id), 0) AS done,
                    CASE WHEN jsonb_typeof(plan) = 'array'
                         THEN (SELECT sum((p->>'estimatedRows')::bigint) FROM jsonb_array_elements(plan) p) END AS estimated
               FROM maintenance_run WHERE NOT dry_run AND cutoff IS NOT NULL ORDER BY job, started_at DESC) r`,
  );
}

/** Per job, when a run of it last completed and last failed (Unix seconds, null if never). */
export async function lastOutcomeByJob(db: Db): Promise<Array<{ job: string; success: number | null; failure: number | null }>> {
  return db.query(
    `SELECT job, extract(epoch FROM max(finished_at) FILTER (WHERE status = 'completed'))::float8 AS success,
            extract(epoch FROM max(finished_at) FILTER (WHERE status = 'failed'))::float8 AS failure
       FROM maintenance_run GROUP BY job`,
  );
}

/** The newest recorded run of each job (for `maint status`). */
export async function lastRunPerJob(db: Db): Promise<Array<Record<string, any>>> {
  return db.query(
    `SELECT DISTINCT ON (job) job, workflow_id, trigger, dry_run, status, deleted, started_at, finished_at, error
       FROM maintenance_run ORDER BY job, started_at DESC`,
  );
}

/** Finished runs per job and status (`maint_runs_total`): only ever grows, as a counter must. */
export async function finishedRunsByJob(db: Db): Promise<Array<{ job: string; status: string; n: number }>> {
  return db.query(`SELECT job, status, count(*)::int AS n FROM maintenance_run WHERE status <> 'running' GROUP BY job, status`);
}

/** Every finished run's duration, per job (`maint_run_duration_seconds`). */
export async function runDurations(db: Db): Promise<Array<{ job: string; ms: number }>> {
  return db.query(`SELECT job, duration_ms AS ms FROM maintenance_run WHERE status <> 'running' AND duration_ms IS NOT NULL`);
}

/**
 * The finished real runs of the last `days` days that recorded what they left (patch `purge-aftermath`), per job:
 * the input of the falling-behind rates (src/health/purge-rates.ts).
 */
export async function runsForRates(db: Db, days: number): Promise<Map<string, RunForRates[]>> {
  const rows = await db.query<{ job: string; cutoff: string | Date; changed: string; left: number }>(
    `SELECT job, cutoff, (deleted + updated)::bigint AS changed, (aftermath->'backlog'->>'left')::float8 AS left
       FROM maintenance_run
      WHERE NOT dry_run AND status <> 'running' AND cutoff IS NOT NULL AND aftermath->'backlog'->>'left' IS NOT NULL
        AND started_at > now() - make_interval(days => ?::int)
      ORDER BY job, cutoff`,
    [days],
  );
  const out = new Map<string, RunForRates[]>();
  for (const r of rows) out.set(r.job, [...(out.get(r.job) ?? []), { cutoff: new Date(r.cutoff).toISOString(), changed: toNumber(r.changed), left: toNumber(r.left) }]);
  return out;
}

/** The aftermath of each job's latest real run that recorded one. */
export async function latestAftermathByJob(db: Db): Promise<Array<{ job: string; runId: string; finishedAt: string | null; aftermath: PurgeAftermath }>> {
  const rows = await db.query<{ job: string; id: string; finished_at: string | Date | null; aftermath: PurgeAftermath }>(
    `SELECT DISTINCT ON (job) job, id, finished_at, aftermath FROM maintenance_run
      WHERE NOT dry_run AND aftermath IS NOT NULL ORDER BY job, started_at DESC`,
  );
  return rows.map((r) => ({ job: r.job, runId: r.id, finishedAt: r.finished_at ? new Date(r.finished_at).toISOString() : null, aftermath: r.aftermath }));
}
