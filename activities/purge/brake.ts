import type { Db } from '../../src/db/query.js';
import { toNumber } from '../../src/kernel/counts.js';
import { replayLagOf, type Pressure, type ReplicaReport } from '../../src/purge/brake.js';
import { OWN_APPLICATION_NAME } from '../../src/db/schema.js';
import { saysThrottle, THROTTLE_QUERY_TIMEOUT_MS } from '../../src/purge/throttle-query.js';
import { databaseErrorMessage } from '../../src/db/errors.js';

/**
 * One cheap read of the database's state (two catalog views, no table touched). Replay lag needs the role to see
 * pg_stat_replication's lag columns (superuser or pg_read_all_stats); without that it reads as unknown.
 */
export async function readPressure(db: Db): Promise<Pressure> {
  const [row] = await db.query<{ replicas: ReplicaReport[] | null; lag_bytes: unknown; active: unknown }>(
    `SELECT (SELECT json_agg(json_build_object('lagMs', extract(epoch FROM replay_lag) * 1000, 'caughtUp', replay_lsn >= sent_lsn)) FROM pg_stat_replication) AS replicas,
            (SELECT max(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)) FROM pg_stat_replication) AS lag_bytes,
            (SELECT count(*) FROM pg_stat_activity
              WHERE state = 'active' AND backend_type = 'client backend' AND pid <> pg_backend_pid()
                AND datname = current_database() AND application_name <> ?) AS active`,
    [OWN_APPLICATION_NAME],
  );
  return {
    replicaLagMs: replayLagOf(row?.replicas ?? []),
    replicaLagBytes: row?.lag_bytes === null || row?.lag_bytes === undefined ? null : toNumber(row.lag_bytes),
    activeSessions: toNumber(row?.active),
  };
}

/** Samples of the probe kept for its baseline: the least of them is the database's idle round trip, lately. */
const PROBE_WINDOW = 200;

/**
 * The load probe: the round trip of `SELECT 1`, which grows with the CPU and connection pressure the application
 * feels too, against its idle baseline (the least seen over the last samples, so a change of network moves it).
 */
export class Probe {
  private samples: number[] = [];

  async measure(db: Db): Promise<{ ms: number; baselineMs: number }> {
    const started = performance.now();
    await db.query('SELECT 1');
    const ms = performance.now() - started;
    this.samples.push(ms);
    if (this.samples.length > PROBE_WINDOW) this.samples.shift();
    return { ms, baselineMs: Math.min(...this.samples) };
  }
}

/**
 * The deployment's throttle query, run so that it cannot change data or hold anything: a read-only transaction with
 * short statement and lock timeouts, rolled back. A failure throttles, with its reason: a query that cannot answer
 * does not get to wave a purge through.
 */
export async function askThrottleQuery(db: Db, sql: string): Promise<{ throttle: boolean; error?: string }> {
  try {
    return await db.transaction(async (tx) => {
      await tx.query('SET TRANSACTION READ ONLY');
      await tx.query(`SET LOCAL statement_timeout = ${THROTTLE_QUERY_TIMEOUT_MS}`);
      await tx.query(`SET LOCAL lock_timeout = ${THROTTLE_QUERY_TIMEOUT_MS / 2}`);
      const [row] = await tx.query<Record<string, unknown>>(sql);
      return { throttle: saysThrottle(row) };
    });
  } catch (err) {
    return { throttle: true, error: databaseErrorMessage(err)?.message ?? (err as Error).message };
  }
}

/**
 * Application sessions that wait on a lock this session holds: called inside a batch's transaction after its
 * statement, while its row locks are still held. Only sessions waiting on a lock are looked at, so the (costly)
 * pg_blocking_pids runs for few backends, if any.
 */
export async function sessionsBlockedByMe(tx: Pick<Db, 'query'>): Promise<number> {
  const [row] = await tx.query<{ n: unknown }>(
    `SELECT count(*) AS n FROM pg_stat_activity
      WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid() AND pg_backend_pid() = ANY (pg_blocking_pids(pid))`,
  );
  return toNumber(row?.n);
}
