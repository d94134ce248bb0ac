/**
 * The impact budget a purge keeps between its batches: what the database's other users need comes first. Checked
 * with cheap catalog reads (activities/purge/brake.ts) before each batch; over budget, the lane waits and says why
 * (its heartbeat details, which the CLI's progress and the Web UI's pending activity show). Pure rules here.
 * The DBA tools teams trust for MySQL have the same brakes: pt-archiver's --max-lag and --sleep-coef, gh-ost's
 * --max-lag-millis, --max-load, --critical-load and --throttle-query.
 */

export interface BrakeSettings {
  /** Wait while a streaming replica's replay lag is above this; null: no check. */
  maxReplicaLagMs: number | null;
  /**
   * Wait while a replica has more WAL than this still to replay; null: no check.
   * Needed beside the time: PostgreSQL measures replay_lag only when a replica reports progress, so a replica
   * that stopped replaying shows its last lag (or none) while the bytes behind keep growing.
   */
  maxReplicaLagBytes: number | null;
  /** Wait while more other client sessions than this are running a statement; null: no check. */
  maxActiveSessions: number | null;
  /** After each batch, sleep its own duration times this: 1 leaves the database idle half the time. */
  sleepCoefficient: number;
  /** Wait while a trivial probe query takes more than this many times its idle baseline; null: no check. */
  maxProbeFactor?: number | null;
  /** Shrink the next batches and back off when a batch made an application session wait on its locks. */
  blockingBrake?: boolean;
  /** End the run (partial, resumable) when a replica lags more than this for `criticalForMs`; null: never. */
  criticalReplicaLagMs?: number | null;
  /** End the run when more other sessions than this run statements for `criticalForMs`; null: never. */
  criticalActiveSessions?: number | null;
  /** How long a critical value must last before the run ends: a spike does not end it. */
  criticalForMs?: number;
  /** Where each limit came from, named in the reasons (a variable, a budget, a parameter, an operator's control). */
  names?: Partial<Record<LimitField, string>>;
}

export type LimitField = 'maxReplicaLagMs' | 'maxReplicaLagBytes' | 'maxActiveSessions' | 'maxProbeFactor' | 'criticalReplicaLagMs' | 'criticalActiveSessions';

/** The name a limit has when nothing more precise is known: the worker's variable (checks from before budgets). */
const DEFAULT_NAMES: Record<LimitField, string> = {
  maxReplicaLagMs: 'MAINT_BRAKE_REPLICA_LAG_MS',
  maxReplicaLagBytes: 'MAINT_BRAKE_REPLICA_LAG_BYTES',
  maxActiveSessions: 'MAINT_BRAKE_ACTIVE_SESSIONS',
  maxProbeFactor: 'maxProbeLatency',
  criticalReplicaLagMs: 'criticalReplicaLag',
  criticalActiveSessions: 'criticalActiveSessions',
};

export const NO_BRAKES: BrakeSettings = { maxReplicaLagMs: null, maxReplicaLagBytes: null, maxActiveSessions: null, sleepCoefficient: 0 };

/** What the database reports between batches. */
export interface Pressure {
  /** Largest replay lag of the streaming replicas, in ms; null when there is none or it cannot be read. */
  replicaLagMs: number | null;
  /** Bytes of WAL the slowest replica has still to replay (shown with the lag). */
  replicaLagBytes: number | null;
  /** Other client sessions of this database running a statement now. */
  activeSessions: number;
  /** The probe query's latency now and its idle baseline (the least seen lately), in ms; absent when not probed. */
  probe?: { ms: number; baselineMs: number };
  /** The deployment's throttle query: true while it says to wait, or why it could not answer; absent when none is set. */
  throttleQuery?: { throttle: boolean; error?: string };
}

/** A streaming replica as pg_stat_replication reports it: its replay_lag (ms) and whether it replayed all it was sent. */
export interface ReplicaReport {
  lagMs: number | null;
  caughtUp: boolean | null;
}

/**
 * The largest replay lag of the replicas, in ms; null when none reports one. A replica that has replayed all it was
 * sent lags by nothing, whatever replay_lag says: PostgreSQL keeps the last measure after a standby catches up until
 * its next status message (up to wal_receiver_status_interval, 10 s), and a purge paused on a replica that stopped
 * replaying would wait that long after it caught up (measured in npm run bench: 3 to 10 s).
 */
export function replayLagOf(replicas: ReplicaReport[]): number | null {
  const lags = replicas.map((r) => (r.caughtUp ? 0 : r.lagMs)).filter((v): v is number => v !== null && v !== undefined);
  return lags.length ? Math.max(...lags) : null;
}

/** Why a lane waits, as a label of `maint_purge_throttled_seconds_total` and of the progress's totals. */
export type ThrottleKind = 'replica-lag' | 'active-sessions' | 'probe-latency' | 'throttle-query' | 'blocking' | 'sleep';

export interface Brake {
  kind: ThrottleKind;
  text: string;
}

/** A probe this much over its baseline is noise, whatever the factor (a 0.2 ms round trip doubles on any hiccup). */
const PROBE_SLACK_MS = 2;

export function checksAnything(s: BrakeSettings): boolean {
  return s.maxReplicaLagMs !== null || s.maxReplicaLagBytes !== null || s.maxActiveSessions !== null || isSet(s.maxProbeFactor) || isSet(s.criticalReplicaLagMs) || isSet(s.criticalActiveSessions);
}

const isSet = (v: number | null | undefined): v is number => v !== null && v !== undefined;
const nameOf = (s: BrakeSettings, f: LimitField) => s.names?.[f] ?? DEFAULT_NAMES[f];

/** Why the purge must wait now, in words an operator acts on, and its kind; null when it may go on. */
export function brakeFor(p: Pressure, s: BrakeSettings): Brake | null {
  if (p.throttleQuery?.throttle) {
    return { kind: 'throttle-query', text: p.throttleQuery.error ? `the throttle query (MAINT_BRAKE_THROTTLE_QUERY) failed, so the purge waits: ${p.throttleQuery.error}` : 'the throttle query (MAINT_BRAKE_THROTTLE_QUERY) says to wait' };
  }
  if (s.maxReplicaLagMs !== null && p.replicaLagMs !== null && p.replicaLagMs > s.maxReplicaLagMs) {
    const bytes = p.replicaLagBytes !== null ? ` (${Math.round(p.replicaLagBytes / 1024)} KiB of WAL behind)` : '';
    return { kind: 'replica-lag', text: `replica lag ${(p.replicaLagMs / 1000).toFixed(1)} s is over ${nameOf(s, 'maxReplicaLagMs')} ${s.maxReplicaLagMs} ms${bytes}` };
  }
  if (s.maxReplicaLagBytes !== null && p.replicaLagBytes !== null && p.replicaLagBytes > s.maxReplicaLagBytes) {
    return { kind: 'replica-lag', text: `a replica has ${Math.round(p.replicaLagBytes / 1024)} KiB of WAL still to replay, over ${nameOf(s, 'maxReplicaLagBytes')} ${s.maxReplicaLagBytes}` };
  }
  if (s.maxActiveSessions !== null && p.activeSessions > s.maxActiveSessions) {
    return { kind: 'active-sessions', text: `${p.activeSessions} other sessions are running statements, over ${nameOf(s, 'maxActiveSessions')} ${s.maxActiveSessions}` };
  }
  if (isSet(s.maxProbeFactor) && p.probe && p.probe.ms > p.probe.baselineMs * s.maxProbeFactor && p.probe.ms > p.probe.baselineMs + PROBE_SLACK_MS) {
    return { kind: 'probe-latency', text: `a probe query took ${p.probe.ms.toFixed(1)} ms, over ${nameOf(s, 'maxProbeFactor')} ${s.maxProbeFactor} times its idle ${p.probe.baselineMs.toFixed(1)} ms` };
  }
  return null;
}

export function brakeReason(p: Pressure, s: BrakeSettings): string | null {
  return brakeFor(p, s)?.text ?? null;
}

/** A value so far over the budget that the run should end (partial, resumable) if it lasts; null when there is none. */
export function criticalFor(p: Pressure, s: BrakeSettings): string | null {
  if (isSet(s.criticalReplicaLagMs)) {
    if (p.replicaLagMs !== null && p.replicaLagMs > s.criticalReplicaLagMs) {
      return `replica lag ${(p.replicaLagMs / 1000).toFixed(1)} s is over the critical ${nameOf(s, 'criticalReplicaLagMs')} ${s.criticalReplicaLagMs} ms`;
    }
  }
  if (isSet(s.criticalActiveSessions) && p.activeSessions > s.criticalActiveSessions) {
    return `${p.activeSessions} other sessions are running statements, over the critical ${nameOf(s, 'criticalActiveSessions')} ${s.criticalActiveSessions}`;
  }
  return null;
}

/** Whether a critical value that began at `sinceMs` has lasted long enough to end the run. */
export function criticalLasted(sinceMs: number, nowMs: number, s: BrakeSettings): boolean {
  return nowMs - sinceMs >= (s.criticalForMs ?? 0);
}

/**
 * How long to wait before looking again: short at first, then every half second, so the purge resumes within the
 * 2 s an operator is promised after the pressure ends. A replica's replay position reaches the primary some tenths
 * of a second after the standby replayed; with a look every second on a loaded machine the resume measured 2.13 s.
 */
export function recheckAfterMs(waitedMs: number): number {
  return Math.min(500, 250 + waitedMs / 4);
}

/** The pause after a batch that took `batchMs`. */
export function sleepAfterBatchMs(batchMs: number, s: BrakeSettings): number {
  return Math.min(60_000, Math.max(0, batchMs * s.sleepCoefficient));
}

/**
 * The size of the next batch after one that made `blocked` application sessions wait on its locks: half (a shorter
 * transaction holds its rows for less time); after a batch that blocked nobody, back toward `planned`, doubling.
 */
export function sizeAfterBlocking(size: number, blocked: number, planned: number, min: number): number {
  if (blocked > 0) return Math.max(Math.min(min, size), Math.floor(size / 2));
  return size < planned ? Math.min(planned, size * 2) : size;
}

/** The back-off after batches that blocked the application, growing with each one in a row, at most 2 s. */
export function blockingBackoffMs(inARow: number): number {
  return Math.min(2_000, 250 * 2 ** Math.max(0, inARow - 1));
}
