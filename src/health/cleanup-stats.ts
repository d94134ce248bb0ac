import type { Db } from '../db/query.js';
import { runStatsByJob } from '../db/run-record.js';
import { toNumber } from '../kernel/counts.js';

/**
 * Cleanup statistics per job over a window, from the audit table: runs, failures, rows, median duration and
 * throughput (the seed's admin statistics). Dry runs are left out: they change nothing.
 */
export interface JobStats {
  job: string;
  runs: number;
  failures: number;
  /** Rows deleted or updated by the job's runs (parents; dependents are counted in `dependents`). */
  rows: number;
  dependents: number;
  medianDurationMs: number | null;
  /** Rows of all runs over their total duration. */
  rowsPerSecond: number | null;
  lastSuccessAt: string | null;
  lastFailureAt: string | null;
}

export interface CleanupStats {
  days: number;
  since: string;
  jobs: JobStats[];
}


export async function cleanupStats(db: Db, days: number): Promise<CleanupStats> {
  if (!Number.isInteger(days) || days < 1 || days > 3650) throw new RangeError(`days must be an integer from 1 to 3650, got ${days}`);
  const { since, jobs: rows } = await runStatsByJob(db, days);
  return {
    days,
    since: new Date(since).toISOString(),
    jobs: rows.map((r) => {
      const totalMs = toNumber(r.total_ms);
      return {
        job: String(r.job),
        runs: toNumber(r.runs),
        failures: toNumber(r.failures),
        rows: toNumber(r.rows),
        dependents: toNumber(r.dependents),
        medianDurationMs: r.median_ms === null ? null : Math.round(toNumber(r.median_ms)),
        rowsPerSecond: totalMs > 0 ? Math.round((toNumber(r.rows) / totalMs) * 1000 * 10) / 10 : null,
        lastSuccessAt: r.last_success ? new Date(r.last_success as string).toISOString() : null,
        lastFailureAt: r.last_failure ? new Date(r.last_failure as string).toISOString() : null,
      };
    }),
  };
}
