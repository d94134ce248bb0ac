import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { type Orm, dbFromOrm } from '../orm/index.js';
import { type Db } from '../db/query.js';
import * as runRecord from '../db/run-record.js';
import type { Logger } from '../logger.js';
import { toNumber } from '../kernel/counts.js';
import { purgeRates, RATE_WINDOW_DAYS, type PurgeRates } from '../health/purge-rates.js';

/** What a committed batch reports to the metrics (a subset of the batch activity's input and result). */
export interface BatchFacts {
  runId: string;
  rule: { table: string };
}
export interface BatchCounts {
  deleted: number;
  updated?: number;
  children: Record<string, number>;
  durationMs: number;
  /** Where the batch's time went, in milliseconds, by phase (see activities/purge/batch.ts). */
  phases?: Record<string, number>;
}

/** The metrics dependency of the activities: called once per committed batch, never throws, never waits. */
export interface JobMetrics {
  readonly registry: Registry;
  batchCommitted(batch: BatchFacts, counts: BatchCounts): void;
  /** A purge lane of run `runId` waited `seconds` on its impact budget, for `reason` (a throttle kind). */
  throttled?(runId: string, reason: string, seconds: number): void;
}


/**
 * The tool's own Prometheus metrics. Counters and the batch histogram are updated by the batch activity of this
 * worker; the gauges (backlog, last success and failure, key age, failing providers, unsent notifications) are read
 * from the database at scrape time, so every worker reports the same values and a restart loses nothing.
 */
export function createJobMetrics(deps: { orm: Orm; logger: Logger; rotateAfterSeconds: number; collectProcessMetrics?: boolean }): JobMetrics {
  const { orm } = deps;
  const log = deps.logger.child({ component: 'metrics' });
  const registry = new Registry();
  if (deps.collectProcessMetrics) collectDefaultMetrics({ register: registry });
  const db = dbFromOrm(orm);

  const deleted = new Counter({ name: 'maint_rows_deleted_total', help: 'Rows deleted by purge batches, per job and table (dependents under their own table).', labelNames: ['job', 'table'], registers: [registry] });
  const updated = new Counter({ name: 'maint_rows_updated_total', help: 'Rows updated by purge batches (e.g. marked revoked), per job and table.', labelNames: ['job', 'table'], registers: [registry] });
  const batchSeconds = new Histogram({
    name: 'maint_batch_duration_seconds',
    help: 'Duration of one batch transaction, per job.',
    labelNames: ['job'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });

  const throttledSeconds = new Counter({
    name: 'maint_purge_throttled_seconds_total',
    help: "Seconds purge lanes of this worker waited on their impact budget, per job and reason (replica-lag, active-sessions, probe-latency, throttle-query, blocking, and sleep: the duty cycle's).",
    labelNames: ['job', 'reason'],
    registers: [registry],
  });
  const phaseSeconds = new Histogram({
    name: 'maint_batch_phase_seconds',
    help: 'Where a batch transaction\'s time goes, per job and phase: open (begin, settings, ledger lookup), statement (the batch, foreign-key checks included), commit (ledger row and commit).',
    labelNames: ['job', 'phase'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [registry],
  });

  // One set of queries per scrape, shared by the gauges below.
  let snapshot: Promise<Snapshot> | undefined;
  let snapshotAt = 0;
  const read = (): Promise<Snapshot> => {
    if (!snapshot || Date.now() - snapshotAt > 1_000) {
      snapshotAt = Date.now();
      snapshot = readSnapshot(db).catch((err: unknown) => {
        log.warn({ err: (err as Error).message }, 'metrics: the database could not be read');
        return EMPTY;
      });
    }
    return snapshot;
  };

  const gauge = (name: string, help: string, labelNames: string[], fill: (g: Gauge, s: Snapshot) => void) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        this.reset();
        fill(this, await read());
      },
    });
  gauge('maint_backlog_rows', 'Rows the latest live run of a job matched and has not deleted or updated: exact once it completed, the planner\'s estimate while it runs or after it failed.', ['job'], (g, s) => s.backlog.forEach((v, job) => g.set({ job }, v)));
  // Falling behind (src/health/purge-rates.ts): both from the job's runs of the last RATE_WINDOW_DAYS days; absent with fewer than two.
  gauge('maint_purge_eligible_rows_per_day', `Rows per day that become eligible for the job, from its runs of the last ${RATE_WINDOW_DAYS} days: what they changed plus the growth of what they left.`, ['job'], (g, s) => s.rates.forEach((r) => g.set({ job: r.job }, r.eligiblePerDay)));
  gauge('maint_purge_deleted_rows_per_day', `Rows per day the job's runs of the last ${RATE_WINDOW_DAYS} days deleted or updated.`, ['job'], (g, s) => s.rates.forEach((r) => g.set({ job: r.job }, r.deletedPerDay)));
  gauge('maint_job_last_success_timestamp_seconds', 'When a run of the job last completed (Unix seconds).', ['job'], (g, s) => s.lastSuccess.forEach((v, job) => g.set({ job }, v)));
  gauge('maint_job_last_failure_timestamp_seconds', 'When a run of the job last failed (Unix seconds).', ['job'], (g, s) => s.lastFailure.forEach((v, job) => g.set({ job }, v)));
  // Labelled by the key: with no active key there is nothing to measure, and the series is absent (an unlabelled gauge reads 0).
  gauge('maint_signing_key_age_seconds', 'Age of the active signing key, by kid; absent when there is none.', ['kid'], (g, s) => s.key && g.set({ kid: s.key.kid }, s.key.age));
  gauge('maint_signing_key_rotation_due_in_seconds', 'Seconds until a rotation of the active key is due (negative: overdue), by kid; absent when there is no key.', ['kid'], (g, s) => s.key && g.set({ kid: s.key.kid }, deps.rotateAfterSeconds - s.key.age));
  gauge('maint_oidc_providers_failing', 'OIDC providers whose last JWKS fetch failed.', [], (g, s) => g.set(s.oidcFailing));
  gauge('maint_notifications_unsent', 'Notifications recorded and not delivered yet, per channel.', ['channel'], (g, s) => s.unsent.forEach((v, channel) => g.set({ channel }, v)));

  // Every finished run on record (any worker's, failed starts included), read at scrape time like the gauges.
  new Counter({
    name: 'maint_runs_total',
    help: 'Finished runs on record, per job and status (completed, partial, failed, cancelled, skipped).',
    labelNames: ['job', 'status'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const r of (await read()).runs) this.inc({ job: r.job, status: r.status }, r.n);
    },
  });
  new Histogram({
    name: 'maint_run_duration_seconds',
    help: 'Duration of finished runs, per job.',
    labelNames: ['job'],
    buckets: [1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 12 * 3600, 86_400],
    registers: [registry],
    async collect() {
      this.reset();
      for (const r of (await read()).durations) this.observe({ job: r.job }, r.seconds);
    },
  });

  // The job of a run, looked up once per run (batches carry the run id, not the job name).
  const jobOfRun = new Map<string, Promise<string>>();
  const jobOf = (runId: string): Promise<string> => {
    let job = jobOfRun.get(runId);
    if (!job) {
      if (jobOfRun.size > 1_000) jobOfRun.clear();
      job = runRecord.jobOfRun(db, runId);
      jobOfRun.set(runId, job);
    }
    return job;
  };

  return {
    registry,
    batchCommitted(batch, counts) {
      void jobOf(batch.runId)
        .then((job) => {
          if (counts.deleted) deleted.inc({ job, table: batch.rule.table }, counts.deleted);
          if (counts.updated) updated.inc({ job, table: batch.rule.table }, counts.updated);
          for (const [table, v] of Object.entries(counts.children)) if (v) deleted.inc({ job, table }, v);
          batchSeconds.observe({ job }, counts.durationMs / 1000);
          for (const [phase, ms] of Object.entries(counts.phases ?? {})) phaseSeconds.observe({ job, phase }, ms / 1000);
        })
        .catch((err: unknown) => log.warn({ err: (err as Error).message }, 'metrics: batch not counted'));
    },
    throttled(runId, reason, seconds) {
      void jobOf(runId)
        .then((job) => throttledSeconds.inc({ job, reason }, seconds))
        .catch((err: unknown) => log.warn({ err: (err as Error).message }, 'metrics: throttle not counted'));
    },
  };
}

interface Snapshot {
  backlog: Map<string, number>;
  lastSuccess: Map<string, number>;
  lastFailure: Map<string, number>;
  key: { kid: string; age: number } | null;
  oidcFailing: number;
  unsent: Map<string, number>;
  runs: Array<{ job: string; status: string; n: number }>;
  durations: Array<{ job: string; seconds: number }>;
  rates: PurgeRates[];
}

const EMPTY: Snapshot = { backlog: new Map(), lastSuccess: new Map(), lastFailure: new Map(), key: null, oidcFailing: 0, unsent: new Map(), runs: [], durations: [], rates: [] };

async function readSnapshot(db: Db): Promise<Snapshot> {
  const backlog = await runRecord.backlogByJob(db);
  const last = await runRecord.lastOutcomeByJob(db);
  const q = <T>(sql: string) => db.query<T>(sql);
  const [key] = await q<{ kid: string; age: number }>(`SELECT kid, extract(epoch FROM now() - activated_at)::float8 AS age FROM signing_key WHERE state = 'active' LIMIT 1`);
  const [oidc] = await q<{ n: number }>(`SELECT count(*)::int AS n FROM oidc_provider WHERE last_error IS NOT NULL`);
  const unsent = await q<{ channel: string; n: number }>(`SELECT channel, count(*)::int AS n FROM notification_outbox WHERE sent_at IS NULL GROUP BY channel`);
  return {
    backlog: new Map(backlog.map((r) => [r.job, toNumber(r.left)])),
    lastSuccess: new Map(last.filter((r) => r.success !== null).map((r) => [r.job, toNumber(r.success)])),
    lastFailure: new Map(last.filter((r) => r.failure !== null).map((r) => [r.job, toNumber(r.failure)])),
    key: key ? { kid: key.kid, age: toNumber(key.age) } : null,
    oidcFailing: toNumber(oidc?.n),
    unsent: new Map(unsent.map((r) => [r.channel, toNumber(r.n)])),
    runs: (await runRecord.finishedRunsByJob(db)).map((r) => ({ ...r, n: toNumber(r.n) })),
    durations: (await runRecord.runDurations(db)).map((r) => ({ job: r.job, seconds: toNumber(r.ms) / 1000 })),
    rates: [...(await runRecord.runsForRates(db, RATE_WINDOW_DAYS)).entries()].flatMap(([job, runs]) => purgeRates(job, runs) ?? []),
  };
}
