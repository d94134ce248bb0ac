import type { Orm } from '../src/db/orm.js';
import type { RunStatus } from '../src/jobs/types.js';

export interface JobRunRecord {
  runId: string;
  workflowId: string;
  job: string;
  parameters: Record<string, unknown>;
  trigger: string;
  dryRun: boolean;
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

/**
 * The audit record of a non-purge job, in the same table `maint runs` reads. Written once at the end, keyed by the
 * run id, so a retry rewrites the same row.
 */
export function createAuditActivities({ orm }: { orm: Orm }) {
  return {
    async recordJobRun(r: JobRunRecord): Promise<void> {
      const durationMs = Math.max(0, Date.parse(r.finishedAt) - Date.parse(r.startedAt));
      await orm.em.getConnection().execute(
        `INSERT INTO maintenance_run (id, workflow_id, job, parameters, trigger, dry_run, status, matched, deleted, children_deleted, batches,
                                      started_at, finished_at, duration_ms, error)
         VALUES (?, ?, ?, ?::jsonb, ?, ?, ?, ?, ?, ?::jsonb, 0, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET status = excluded.status, matched = excluded.matched, deleted = excluded.deleted,
           children_deleted = excluded.children_deleted, finished_at = excluded.finished_at, duration_ms = excluded.duration_ms, error = excluded.error`,
        [r.runId, r.workflowId, r.job, JSON.stringify(r.parameters), r.trigger, r.dryRun, r.status, r.matched, r.deleted, JSON.stringify(r.counts),
          r.startedAt, r.finishedAt, durationMs, r.error ?? null],
      );
    },
  };
}
