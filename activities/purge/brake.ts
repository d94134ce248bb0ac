import type { Db } from '../../src/db/query.js';
import { toNumber } from '../../src/kernel/counts.js';
import type { Pressure } from '../../src/purge/brake.js';
import { OWN_APPLICATION_NAME } from '../../src/db/schema.js';


/**
 * One cheap read of the database's state (two catalog views, no table touched). Replay lag needs the role to see
 * pg_stat_replication's lag columns (superuser or pg_read_all_stats); without that it reads as unknown.
 */
export async function readPressure(db: Db): Promise<Pressure> {
  const [row] = await db.query<{ lag_ms: unknown; lag_bytes: unknown; active: unknown }>(
    `SELECT (SELECT max(extract(epoch FROM replay_lag) * 1000) FROM pg_stat_replication) AS lag_ms,
            (SELECT max(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)) FROM pg_stat_replication) AS lag_bytes,
            (SELECT count(*) FROM pg_stat_activity
              WHERE state = 'active' AND backend_type = 'client backend' AND pid <> pg_backend_pid()
                AND datname = current_database() AND application_name <> ?) AS active`,
    [OWN_APPLICATION_NAME],
  );
  return {
    replicaLagMs: row?.lag_ms === null || row?.lag_ms === undefined ? null : toNumber(row.lag_ms),
    replicaLagBytes: row?.lag_bytes === null || row?.lag_bytes === undefined ? null : toNumber(row.lag_bytes),
    activeSessions: toNumber(row?.active),
  };
}
