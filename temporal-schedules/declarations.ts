/**
 * One Temporal Schedule per job, with the cadence of the cron jobs and Celery beat entries it replaces.
 * Times are UTC unless a declaration says otherwise; overrides come from the config file (see config.ts).
 */

export const OVERLAP_POLICIES = ['SKIP', 'BUFFER_ONE', 'BUFFER_ALL', 'CANCEL_OTHER', 'TERMINATE_OTHER', 'ALLOW_ALL'] as const;
export type OverlapPolicy = (typeof OVERLAP_POLICIES)[number];

export interface ScheduleDeclaration {
  id: string;
  job: string;
  params?: Record<string, unknown>;
  /** Cron expressions (5 fields, or @hourly/@daily/@weekly/@monthly); or `every` for an interval. */
  cron?: string[];
  /** Interval such as 30m, 1h, 7d. */
  every?: string;
  timezone: string;
  overlap: OverlapPolicy;
  /** How late a missed action may still run after an outage (e.g. the server was down at 00:00). */
  catchupWindow: string;
  pauseOnFailure: boolean;
  /** Random delay so schedules firing at the same moment do not all hit the database at once. */
  jitter?: string;
  note: string;
}

export const SCHEDULES: readonly ScheduleDeclaration[] = [
  {
    id: 'maint-purge-expired-tokens-daily',
    job: 'purge-expired-tokens',
    cron: ['0 0 * * *'],
    timezone: 'UTC',
    // A purge never runs twice at once: a run still going at the next tick makes that tick a no-op.
    overlap: 'SKIP',
    catchupWindow: '6h',
    pauseOnFailure: true,
    jitter: '5m',
    note: 'Daily purge of expired refresh tokens and their blacklist rows (replaces flushexpiredtokens under cron).',
  },
];

/** Marks the schedules this tool manages; sync never touches a schedule without it. */
export const MANAGED_BY = 'auth-maintenance';
