// The purge's replica-lag brake against a real streaming replica (issue #22): a standby made with pg_basebackup whose
// replay is paused mid-purge with pg_wal_replay_pause() and resumed 5 s later. Measured from outside the worker: the
// primary's pg_stat_replication (what the brake reads), the standby's own replay position, and the ledger.
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type pg from 'pg';
import type { PurgeResult } from '../src/purge/types.js';
import { freePort } from '../src/local/ports.js';
import { createReplicaPair } from '../test/support/replica-pair.js';
import { client, seedTemplate, withDb } from './template.js';
import type { Shape } from './shapes.js';

/** The targets of issue #22. */
export const REPLICA_TARGETS = { lagAboveLimitSeconds: 1, pauseEffectSeconds: 2, resumeEffectSeconds: 2 } as const;

/** The run's limits: the `full` budget with a 1 s lag limit and a byte limit a paused standby passes within a second. */
const LIMIT_SECONDS = 1;
const LIMIT_BYTES = 8 * 1024 * 1024;
const PAUSE_AT_SHARE = 0.2;
const PAUSE_MS = 5_000;
const SAMPLE_MS = 100;
/** The most rows seeded on the pair: the measurement is of the brake, not of speed. */
export const REPLICA_MAX_ROWS = 1_000_000;

export interface ReplicaDeps {
  /** A benchmark worker (own process) against `url` on `taskQueue`. */
  startWorker(url: string, taskQueue: string, extraEnv: Record<string, string>): Promise<ChildProcess>;
  /** Starts our purge job; returns its handle. */
  startPurge(job: string, params: Record<string, unknown>, taskQueue: string): Promise<{ result(): Promise<unknown>; firstExecutionRunId: string }>;
  say(m: string): void;
}

interface Sample {
  /** ms since the epoch, the primary's clock (the standby is on the same machine). */
  t: number;
  /** pg_stat_replication.replay_lag in ms: null when PostgreSQL has no recent measure. */
  replayLagMs: number | null;
  /** pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn) on the primary: the bytes the brake reads. */
  bytesBehind: number | null;
  /** The primary's current WAL position and the standby's own replay position (pg_last_wal_replay_lsn()), as bytes. */
  primaryLsn: number;
  standbyReplayLsn: number;
  paused: boolean;
}

const lsnBytes = (lsn: string) => {
  const [hi, lo] = lsn.split('/');
  return parseInt(hi!, 16) * 2 ** 32 + parseInt(lo!, 16);
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const r2 = (x: number) => Math.round(x * 100) / 100;

/**
 * The standby's lag in time, from WAL positions: how long ago the primary had already written past what the standby
 * has replayed now (0 when it has replayed everything the primary had). Read from the 100 ms samples, so it is
 * accurate to a sample; it does not depend on when the standby reports (replay_lag does) nor on commits arriving.
 */
function trueLagMs(samples: Sample[], i: number): number {
  const s = samples[i]!;
  if (s.standbyReplayLsn >= s.primaryLsn) return 0;
  for (let j = 0; j <= i; j++) if (samples[j]!.primaryLsn > s.standbyReplayLsn) return s.t - samples[j]!.t;
  return 0;
}

async function metricValue(port: number, name: string, label: string): Promise<number | null> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const m = new RegExp(`^${name}\\{[^}]*${label}[^}]*\\} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : null;
}

export async function measureReplica(shape: Shape, size: number, deps: ReplicaDeps) {
  const n = Math.min(size, REPLICA_MAX_ROWS);
  const { say } = deps;
  say(`replica: a primary and a pg_basebackup standby; seeding ${n.toLocaleString()} ${shape.name} tokens on the primary`);
  const pair = await createReplicaPair();
  const opened: pg.Client[] = [];
  const open = async (url: string) => {
    const c = client(url, (err) => say(`replica: connection error: ${err.message}`));
    await c.connect();
    opened.push(c);
    return c;
  };
  let worker: ChildProcess | undefined;
  try {
    const now = new Date();
    const seeded = await seedTemplate(pair.primaryUrl, 'bench_replica', shape, n, now);
    const url = withDb(pair.primaryUrl, 'bench_replica');
    const primary = await open(pair.primaryUrl);
    const standby = await open(pair.standbyUrl);
    const behind = async () => Number((await primary.query('SELECT coalesce(max(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)), -1)::float8 AS b FROM pg_stat_replication')).rows[0].b);
    for (let waited = 0; (await behind()) !== 0; waited += 200) {
      if (waited > 120_000) throw new Error('the standby did not catch up with the seed in 120 s');
      await sleep(200);
    }

    const taskQueue = `bench-replica-${shape.name}-${n}`;
    const metricsPort = await freePort();
    worker = await deps.startWorker(url, taskQueue, { METRICS_PORT: String(metricsPort) });

    // Sampling: the primary's view (what the brake reads) and the standby's replay position, every 100 ms.
    const samples: Sample[] = [];
    let sampling = true;
    const sampler = (async () => {
      // Ends with the measurement, or when its connections close after a failure.
      while (sampling && !opened.some((c) => (c as unknown as { _ending?: boolean })._ending)) {
        const { rows: [p] } = await primary.query(
          `SELECT extract(epoch FROM clock_timestamp()) * 1000 AS t, pg_current_wal_lsn()::text AS lsn,
                  (SELECT max(extract(epoch FROM replay_lag) * 1000) FROM pg_stat_replication)::float8 AS lag_ms,
                  (SELECT max(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)) FROM pg_stat_replication)::float8 AS bytes`,
        );
        const { rows: [s] } = await standby.query('SELECT pg_last_wal_replay_lsn()::text AS lsn, pg_is_wal_replay_paused() AS paused');
        samples.push({ t: Number(p.t), replayLagMs: p.lag_ms, bytesBehind: p.bytes, primaryLsn: lsnBytes(p.lsn), standbyReplayLsn: lsnBytes(s.lsn), paused: s.paused });
        await sleep(SAMPLE_MS);
      }
    })().catch(() => undefined);

    const params = { asOf: now.toISOString(), budget: 'full', maxReplicaLag: LIMIT_SECONDS, maxReplicaLagBytes: LIMIT_BYTES };
    say(`replica: our purge at budget full, maxReplicaLag ${LIMIT_SECONDS} s, maxReplicaLagBytes ${LIMIT_BYTES}; standby paused at ${PAUSE_AT_SHARE * 100}% for ${PAUSE_MS / 1000} s`);
    const t0 = Date.now();
    const handle = await deps.startPurge(shape.job, params, taskQueue);
    let done = false;
    // A worker that exits mid-run (killed from outside) would leave the purge waiting for a worker forever.
    const w = worker;
    const lost = new Promise<never>((_, reject) => w.once('exit', (code, signal) => reject(new Error(`the benchmark worker exited mid-purge (code ${code}, signal ${signal})`))));
    lost.catch(() => undefined);
    const finished = Promise.race([handle.result() as Promise<PurgeResult>, lost]).finally(() => (done = true));
    const ledger = await open(url);
    let pausedAt: number | null = null;
    let resumedAt: number | null = null;
    while (!done) {
      const { rows: [r] } = await ledger.query('SELECT coalesce(sum(deleted), 0)::int AS deleted FROM purge_batch WHERE run_id = $1', [handle.firstExecutionRunId]);
      if (r.deleted >= seeded.expired * PAUSE_AT_SHARE) {
        await standby.query('SELECT pg_wal_replay_pause()');
        pausedAt = Date.now();
        say(`replica: standby replay paused at ${r.deleted.toLocaleString()} deleted`);
        await sleep(PAUSE_MS);
        await standby.query('SELECT pg_wal_replay_resume()');
        resumedAt = Date.now();
        say('replica: standby replay resumed');
        break;
      }
      await sleep(20);
    }
    const result = await finished;
    const seconds = (Date.now() - t0) / 1000;
    for (let waited = 0; (await behind()) !== 0 && waited < 60_000; waited += 200) await sleep(200);
    await sleep(3 * SAMPLE_MS);
    sampling = false;
    await sampler;
    w.removeAllListeners('exit');
    const throttledSeconds = await metricValue(metricsPort, 'maint_purge_throttled_seconds_total', 'reason="replica-lag"').catch(() => null);
    worker.kill('SIGTERM');
    await once(worker, 'exit');
    worker = undefined;

    // Batches from the ledger: committed_at is the batch transaction's start, duration_ms its length.
    const { rows: batches } = await ledger.query<{ start: number; end: number; deleted: number }>(
      `SELECT extract(epoch FROM committed_at) * 1000 AS start, extract(epoch FROM committed_at) * 1000 + duration_ms AS "end", deleted
         FROM purge_batch WHERE run_id = $1 ORDER BY committed_at`,
      [result.runId],
    );
    for (const b of batches) (b.start = Number(b.start)), (b.end = Number(b.end));
    const { rows: [left] } = await ledger.query(`SELECT count(*)::int AS n FROM ${shape.tokens} WHERE expires_at < $1`, [now]);
    const standbyDb = await open(withDb(pair.standbyUrl, 'bench_replica'));
    const { rows: [leftOnStandby] } = await standbyDb.query(`SELECT count(*)::int AS n FROM ${shape.tokens} WHERE expires_at < $1`, [now]);

    const lags = samples.map((s, i) => ({ ...s, lagMs: trueLagMs(samples, i) }));
    const over = (s: Sample) => (s.bytesBehind ?? 0) > LIMIT_BYTES || (s.replayLagMs ?? 0) > LIMIT_SECONDS * 1000;
    const maxOf = (xs: number[]) => (xs.length ? Math.max(...xs) : null);
    let pause = null;
    if (pausedAt !== null && resumedAt !== null) {
      const pauseStart = pausedAt;
      const resume = resumedAt;
      // The pause takes effect: from the first sample in which the brake's view was over a limit to the end of the
      // last batch begun before the resume (the brake can only act once the lag is over the limit).
      const crossed = lags.find((s) => s.t >= pauseStart && s.t < resume && over(s)) ?? null;
      // When the brake's bytes crossed, finer than a sample: interpolated between the two samples around it (the
      // brake reads the same view at its own moments, so a last batch may end before the sample that saw the crossing).
      let crossedAt = crossed?.t ?? null;
      if (crossed) {
        const i = lags.indexOf(crossed);
        const a = lags[i - 1];
        const [ab, cb] = [a?.bytesBehind ?? 0, crossed.bytesBehind ?? 0];
        if (a && a.t >= pauseStart && ab <= LIMIT_BYTES && cb > LIMIT_BYTES) crossedAt = a.t + ((LIMIT_BYTES - ab) / (cb - ab)) * (crossed.t - a.t);
      }
      const lastBefore = batches.filter((b) => b.start < resume).at(-1) ?? null;
      // The resume takes effect: from pg_wal_replay_resume(), and from the first sample after it with the brake's view
      // under both limits, to the start of the next batch.
      const under = lags.find((s) => s.t >= resume && !over(s)) ?? null;
      // ... and from the standby being back under both limits by its own replay position (the truth the brake's
      // view trails: replay_lag keeps its last value until the standby's next status message).
      const trulyUnder = lags.find((s) => s.t >= resume && s.lagMs <= LIMIT_SECONDS * 1000 && s.primaryLsn - s.standbyReplayLsn <= LIMIT_BYTES) ?? null;
      const next = batches.find((b) => b.start >= resume) ?? null;
      // The pause's backlog is replayed once the standby has passed where the primary was at the resume.
      const lsnAtResume = lags.find((s) => s.t >= resume)?.primaryLsn ?? Infinity;
      const caughtUp = lags.find((s) => s.t >= resume && s.standbyReplayLsn >= lsnAtResume)?.t ?? resume;
      const inPause = lags.filter((s) => s.t >= pauseStart && s.t < resume);
      pause = {
        pausedForMs: resume - pauseStart,
        crossedLimitAfterPauseMs: crossed ? Math.round(crossed.t - pauseStart) : null,
        crossedBy: crossed ? ((crossed.bytesBehind ?? 0) > LIMIT_BYTES ? 'bytes' : 'replay_lag') : null,
        crossedLimitAt: crossedAt,
        pauseEffectMs: crossedAt !== null && lastBefore ? Math.round(lastBefore.end - crossedAt) : null,
        rowsDeletedAfterCrossing: crossedAt !== null ? batches.filter((b) => b.end > crossedAt! && b.start < resume).reduce((a, b) => a + b.deleted, 0) : null,
        walWrittenWhilePausedBytes: inPause.length ? inPause.at(-1)!.primaryLsn - inPause[0]!.primaryLsn : null,
        maxBytesBehindWhilePaused: maxOf(inPause.map((s) => s.bytesBehind ?? 0)),
        replayLagWhilePaused: { nullSamples: inPause.filter((s) => s.replayLagMs === null).length, samples: inPause.length, maxMs: maxOf(inPause.map((s) => s.replayLagMs ?? 0)) },
        underLimitAfterResumeMs: under ? Math.round(under.t - resume) : null,
        trulyUnderLimitAfterResumeMs: trulyUnder ? Math.round(trulyUnder.t - resume) : null,
        resumeEffectFromResumeMs: next ? Math.round(next.start - resume) : null,
        resumeEffectFromUnderLimitMs: next && trulyUnder ? Math.round(next.start - trulyUnder.t) : null,
        resumeEffectFromBrakeViewUnderMs: next && under ? Math.round(next.start - under.t) : null,
        // What held the brake after the standby had caught up: pg_stat_replication's bytes, or its replay_lag, which
        // PostgreSQL updates only when the standby reports (wal_receiver_status_interval, 10 s by default, when idle).
        brakeBytesUnderAfterResumeMs: (() => { const x = lags.find((s) => s.t >= resume && (s.bytesBehind ?? 0) <= LIMIT_BYTES); return x ? Math.round(x.t - resume) : null; })(),
        replayLagOverLimitAfterCatchUp: (() => {
          const after = lags.filter((s) => trulyUnder && s.t >= trulyUnder.t && s.t <= (under?.t ?? Infinity));
          return { forMs: trulyUnder && under ? Math.round(under.t - trulyUnder.t) : null, maxMs: maxOf(after.map((s) => s.replayLagMs ?? 0)) };
        })(),
        backlogReplayedAfterResumeMs: Math.round(caughtUp - resume),
        window: { from: pauseStart, to: caughtUp },
      };
    }
    // Lag while the standby replays freely: outside the pause and the replay of the pause's own backlog.
    const free = pause ? lags.filter((s) => s.t < pause.window.from || s.t > pause.window.to) : lags;
    const maxFreeLagMs = maxOf(free.map((s) => s.lagMs)) ?? 0;
    const report = {
      rows: n,
      expired: seeded.expired,
      limit: { maxReplicaLagSeconds: LIMIT_SECONDS, maxReplicaLagBytes: LIMIT_BYTES, budget: 'full' },
      sampleMs: SAMPLE_MS,
      samples: samples.length,
      deleted: result.deleted,
      expiredLeft: left.n as number,
      expiredLeftOnStandby: leftOnStandby.n as number,
      seconds: r2(seconds),
      batches: batches.length,
      maxReplayLagMs: maxOf(samples.map((s) => s.replayLagMs ?? 0)),
      maxBytesBehind: maxOf(samples.map((s) => s.bytesBehind ?? 0)),
      maxLagMs: maxOf(lags.map((s) => s.lagMs)),
      maxLagWhileReplayingMs: maxFreeLagMs,
      lagAboveLimitWhileReplayingMs: Math.max(0, maxFreeLagMs - LIMIT_SECONDS * 1000),
      pause,
      throttledSeconds: { replicaLag: throttledSeconds === null ? null : r2(throttledSeconds) },
    };
    say(`replica: ${JSON.stringify({ ...report, pause: pause && { ...pause, window: undefined } })}`);
    return report;
  } finally {
    if (worker && worker.exitCode === null) {
      worker.kill('SIGTERM');
      await once(worker, 'exit').catch(() => undefined);
    }
    for (const c of opened) await c.end().catch(() => undefined);
    await pair.destroy();
  }
}

export type ReplicaReport = Awaited<ReturnType<typeof measureReplica>>;

/** The replica targets as a markdown table: measured / target / met or missed. */
export function replicaReport(r: ReplicaReport | { error: string }): string {
  if ('error' in r) return `\nReplica brake: not measured, ${r.error}\n`;
  const verdict = (v: number | null, target: number) => (v === null ? 'not measured' : v <= target ? 'met' : '**missed**');
  const s = (ms: number | null | undefined) => (ms === null || ms === undefined ? 'n/a' : `${(ms / 1000).toFixed(2)} s`);
  const p = r.pause;
  const lines = [
    '',
    `Replica brake: ${r.rows.toLocaleString('en')} rows, a pg_basebackup standby paused ${p ? s(p.pausedForMs) : '(never: the purge ended first)'} at ${PAUSE_AT_SHARE * 100}% deleted; limits ${r.limit.maxReplicaLagSeconds} s / ${Math.round(r.limit.maxReplicaLagBytes / 1048576)} MiB, budget ${r.limit.budget}.`,
    '',
    '| replica target | measured | target | result |',
    '|---|---|---|---|',
    `| lag above the limit while the standby replays (outside the pause and its backlog's replay; lag from WAL positions) | ${s(r.lagAboveLimitWhileReplayingMs)} | ≤ ${REPLICA_TARGETS.lagAboveLimitSeconds} s | ${verdict(r.lagAboveLimitWhileReplayingMs / 1000, REPLICA_TARGETS.lagAboveLimitSeconds)} |`,
    `| pause takes effect: limit crossed (${p?.crossedBy ?? 'n/a'}, pg_stat_replication) to the end of the last batch | ${p?.pauseEffectMs != null && p.pauseEffectMs < 0 ? `≤ ${s(SAMPLE_MS)} (the last batch ended ${s(-p.pauseEffectMs)} before the crossing interpolated from the samples)` : s(p?.pauseEffectMs)} | ≤ ${REPLICA_TARGETS.pauseEffectSeconds} s | ${verdict(p?.pauseEffectMs == null ? null : p.pauseEffectMs / 1000, REPLICA_TARGETS.pauseEffectSeconds)} |`,
    `| resume takes effect: standby back under both limits (its replay position) to the next batch | ${s(p?.resumeEffectFromUnderLimitMs)} | ≤ ${REPLICA_TARGETS.resumeEffectSeconds} s | ${verdict(p?.resumeEffectFromUnderLimitMs == null ? null : p.resumeEffectFromUnderLimitMs / 1000, REPLICA_TARGETS.resumeEffectSeconds)} |`,
    `| resume: pg_wal_replay_resume() to the next batch; standby under the limits after / pg_stat_replication under them after | ${s(p?.resumeEffectFromResumeMs)}; ${s(p?.trulyUnderLimitAfterResumeMs)} / ${s(p?.underLimitAfterResumeMs)} | | |`,
    `| what held the brake after the standby caught up: pg_stat_replication's replay_lag at up to ${s(p?.replayLagOverLimitAfterCatchUp.maxMs)} for ${s(p?.replayLagOverLimitAfterCatchUp.forMs)} (its bytes under the limit ${s(p?.brakeBytesUnderAfterResumeMs)} after the resume); brake's view under to the next batch | ${s(p?.resumeEffectFromBrakeViewUnderMs)} | | |`,
    `| rows deleted after the limit was crossed, before the resume | ${p?.rowsDeletedAfterCrossing?.toLocaleString('en') ?? 'n/a'} | | |`,
    `| most WAL behind while paused (brake's view) | ${p?.maxBytesBehindWhilePaused != null ? `${(p.maxBytesBehindWhilePaused / 1048576).toFixed(1)} MiB` : 'n/a'} | | |`,
    `| max replay_lag seen (pg_stat_replication; NULL in ${p ? `${p.replayLagWhilePaused.nullSamples} of ${p.replayLagWhilePaused.samples}` : 'n/a'} samples while paused) / max lag from WAL positions, pause included | ${s(r.maxReplayLagMs)} / ${s(r.maxLagMs)} | | |`,
    `| throttled, reason replica-lag (worker's /metrics, summed over lanes) | ${r.throttledSeconds.replicaLag ?? 'n/a'} s | | |`,
    `| deleted / expired left on the primary / on the standby | ${r.deleted.toLocaleString('en')} / ${r.expiredLeft} / ${r.expiredLeftOnStandby} | all / 0 / 0 | ${r.deleted === r.expired && r.expiredLeft === 0 && r.expiredLeftOnStandby === 0 ? 'met' : '**missed**'} |`,
  ];
  return lines.join('\n') + '\n';
}
