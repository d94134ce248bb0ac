/**
 * The impact budget a purge keeps between its batches: what the database's other users need comes first. Checked
 * with cheap catalog reads (activities/purge/brake.ts) before each batch; over budget, the lane waits and says why
 * (its heartbeat details, which the CLI's progress and the Web UI's pending activity show). Pure rules here.
 * The DBA tools teams trust for MySQL have the same brakes: pt-archiver's --max-lag and --sleep-coef, gh-ost's
 * --max-lag-millis and --max-load.
 */

export interface BrakeSettings {
  /** Wait while a streaming replica's replay lag is above this (MAINT_BRAKE_REPLICA_LAG_MS); null: no check. */
  maxReplicaLagMs: number | null;
  /**
   * Wait while a replica has more WAL than this still to replay (MAINT_BRAKE_REPLICA_LAG_BYTES); null: no check.
   * Needed beside the time: PostgreSQL measures replay_lag only when a replica reports progress, so a replica
   * that stopped replaying shows its last lag (or none) while the bytes behind keep growing.
   */
  maxReplicaLagBytes: number | null;
  /** Wait while more other client sessions than this are running a statement (MAINT_BRAKE_ACTIVE_SESSIONS); null: no check. */
  maxActiveSessions: number | null;
  /** After each batch, sleep its own duration times this (MAINT_BRAKE_SLEEP_COEF): 1 leaves the database idle half the time. */
  sleepCoefficient: number;
}

export const NO_BRAKES: BrakeSettings = { maxReplicaLagMs: null, maxReplicaLagBytes: null, maxActiveSessions: null, sleepCoefficient: 0 };

/** What the database reports between batches. */
export interface Pressure {
  /** Largest replay lag of the streaming replicas, in ms; null when there is none or it cannot be read. */
  replicaLagMs: number | null;
  /** Bytes of WAL the slowest replica has still to replay (shown with the lag). */
  replicaLagBytes: number | null;
  /** Other client sessions of this database running a statement now. */
  activeSessions: number;
}

export function checksAnything(s: BrakeSettings): boolean {
  return s.maxReplicaLagMs !== null || s.maxReplicaLagBytes !== null || s.maxActiveSessions !== null;
}

/** Why the purge must wait now, in words an operator acts on; null when it may go on. */
export function brakeReason(p: Pressure, s: BrakeSettings): string | null {
  if (s.maxReplicaLagMs !== null && p.replicaLagMs !== null && p.replicaLagMs > s.maxReplicaLagMs) {
    const bytes = p.replicaLagBytes !== null ? ` (${Math.round(p.replicaLagBytes / 1024)} KiB of WAL behind)` : '';
    return `replica lag ${(p.replicaLagMs / 1000).toFixed(1)} s is over MAINT_BRAKE_REPLICA_LAG_MS ${s.maxReplicaLagMs} ms${bytes}`;
  }
  if (s.maxReplicaLagBytes !== null && p.replicaLagBytes !== null && p.replicaLagBytes > s.maxReplicaLagBytes) {
    return `a replica has ${Math.round(p.replicaLagBytes / 1024)} KiB of WAL still to replay, over MAINT_BRAKE_REPLICA_LAG_BYTES ${s.maxReplicaLagBytes}`;
  }
  if (s.maxActiveSessions !== null && p.activeSessions > s.maxActiveSessions) {
    return `${p.activeSessions} other sessions are running statements, over MAINT_BRAKE_ACTIVE_SESSIONS ${s.maxActiveSessions}`;
  }
  return null;
}

/** How long to wait before looking again: short at first, then up to 2 s, so the purge resumes soon after the pressure ends. */
export function recheckAfterMs(waitedMs: number): number {
  return Math.min(2_000, 250 + waitedMs / 4);
}

/** The pause after a batch that took `batchMs`. */
export function sleepAfterBatchMs(batchMs: number, s: BrakeSettings): number {
  return Math.min(60_000, Math.max(0, batchMs * s.sleepCoefficient));
}
