/**
 * The shape of a schedule declaration. Each job's catalogue entry (src/catalogue) declares its schedules, with the
 * cadence of the cron jobs and Celery beat entries it replaces; times are UTC unless a declaration says otherwise;
 * overrides come from the config file (see config.ts).
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
  /** Off unless the config file enables it (the Django presets: only for databases Django created). */
  enabledByDefault?: boolean;
}

/** What a job's catalogue entry declares: the declaration without the job it belongs to. */
export type ScheduleDefaults = Omit<ScheduleDeclaration, 'job'>;
