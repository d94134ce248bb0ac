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
  /** Off unless the config file enables it (the Django presets: only for databases Django created). */
  enabledByDefault?: boolean;
}

/** A purge: never twice at once, a day's tick may still run 6 hours late, a failure pauses it for a human. */
function purgeSchedule(d: Pick<ScheduleDeclaration, 'id' | 'job' | 'cron' | 'note'> & Partial<ScheduleDeclaration>): ScheduleDeclaration {
  return { timezone: 'UTC', overlap: 'SKIP', catchupWindow: '6h', pauseOnFailure: true, jitter: '5m', ...d };
}

export const SCHEDULES: readonly ScheduleDeclaration[] = [
  purgeSchedule({
    id: 'maint-purge-expired-tokens-daily',
    job: 'purge-expired-tokens',
    cron: ['0 0 * * *'],
    // A purge never runs twice at once: a run still going at the next tick makes that tick a no-op.
    note: 'Daily purge of expired refresh tokens and their blacklist rows (replaces flushexpiredtokens under cron).',
  }),
  purgeSchedule({
    id: 'maint-verification-tokens-hourly',
    job: 'purge-verification-tokens',
    params: { types: ['email_verification', 'password_reset'] },
    cron: ['15 * * * *'],
    catchupWindow: '30m',
    jitter: '2m',
    note: 'Hourly: expired email-verification and password-reset tokens (the high-volume types).',
  }),
  purgeSchedule({
    id: 'maint-verification-tokens-daily',
    job: 'purge-verification-tokens',
    cron: ['0 2 * * *'],
    note: 'Daily 02:00 UTC full pass over every verification token type.',
  }),
  purgeSchedule({
    id: 'maint-revoke-then-delete-access-tokens-daily',
    job: 'revoke-then-delete-access-tokens',
    cron: ['30 0 * * *'],
    note: 'Daily: mark expired access tokens revoked, delete tokens revoked over 90 days ago.',
  }),
  purgeSchedule({
    id: 'maint-stale-unverified-accounts-daily',
    job: 'purge-stale-unverified-accounts',
    cron: ['0 1 * * *'],
    jitter: '10m',
    note: 'Daily: accounts never verified within 90 days of sign-up, with everything that belongs to them.',
  }),
  purgeSchedule({
    id: 'maint-email-change-requests-daily',
    job: 'purge-email-change-requests',
    cron: ['10 1 * * *'],
    jitter: '10m',
    note: 'Daily: completed email change requests, and incomplete ones older than 7 days.',
  }),
  purgeSchedule({
    id: 'maint-pending-registrations-daily',
    job: 'purge-pending-registrations',
    cron: ['20 1 * * *'],
    jitter: '10m',
    note: 'Daily: expired pending registrations and one-time passwords.',
  }),
  purgeSchedule({
    id: 'maint-oauth-tokens-daily',
    job: 'purge-oauth-tokens',
    cron: ['40 0 * * *'],
    note: 'Daily: like cleartokens, revoked refresh tokens past their lifespan, expired access and ID tokens, grants.',
  }),
  purgeSchedule({
    id: 'maint-django-simplejwt-flush-expired-daily',
    job: 'django-simplejwt-flush-expired',
    cron: ['0 0 * * *'],
    note: 'Daily flushexpiredtokens on the tables of a Django app (enable in maint.config.yaml).',
    enabledByDefault: false,
  }),
  purgeSchedule({
    id: 'maint-django-oauth-toolkit-cleartokens-daily',
    job: 'django-oauth-toolkit-cleartokens',
    cron: ['40 0 * * *'],
    note: 'Daily cleartokens on the tables of a Django app (enable in maint.config.yaml).',
    enabledByDefault: false,
  }),
  {
    id: 'maint-key-rotation-weekly',
    job: 'key-rotation',
    cron: ['0 4 * * 1'],
    timezone: 'UTC',
    // A rotation rotates only when the signing key is older than KEY_ROTATE_AFTER_DAYS: this is the check.
    overlap: 'SKIP',
    catchupWindow: '1d',
    pauseOnFailure: true,
    jitter: '10m',
    note: 'Weekly rotation check: rotate the signing key once it is 30 days old (at most 3 keys in the JWKS).',
  },
  {
    id: 'maint-keypair-cleanup-monthly',
    job: 'keypair-cleanup',
    cron: ['0 5 1 * *'],
    timezone: 'UTC',
    overlap: 'SKIP',
    catchupWindow: '2d',
    pauseOnFailure: true,
    jitter: '10m',
    note: 'Monthly: withdraw retired keys whose tokens expired; delete inactive keys older than 180 days.',
  },
  {
    id: 'maint-scopes-weekly',
    job: 'scopes',
    cron: ['30 4 * * 1'],
    timezone: 'UTC',
    overlap: 'SKIP',
    catchupWindow: '1d',
    pauseOnFailure: false,
    jitter: '10m',
    note: 'Weekly: make sure the default scopes exist (base, image_upload, event_management, admin).',
  },
  {
    id: 'maint-refresh-jwks-daily',
    job: 'refresh-jwks',
    cron: ['0 3 * * *'],
    timezone: 'UTC',
    overlap: 'SKIP',
    catchupWindow: '6h',
    // A provider that is down must not stop tomorrow's refresh: the run reports it and keeps the last good copy.
    pauseOnFailure: false,
    jitter: '10m',
    note: "Daily: refresh each OIDC provider's JWKS, keep the last good copy when a fetch fails.",
  },
  {
    id: 'maint-health-report-daily',
    job: 'health-report',
    cron: ['0 6 * * *'],
    timezone: 'UTC',
    overlap: 'SKIP',
    catchupWindow: '6h',
    pauseOnFailure: false,
    note: 'Daily health report: tokens, keys, activity of the last 24 h, status and recommendations.',
  },
  {
    id: 'maint-health-report-weekly',
    job: 'health-report',
    cron: ['0 3 * * 0'],
    timezone: 'UTC',
    overlap: 'SKIP',
    catchupWindow: '1d',
    pauseOnFailure: false,
    note: 'Weekly report, Sunday 03:00 UTC (the seeds\' weekly summary).',
  },
];

/** Marks the schedules this tool manages; sync never touches a schedule without it. */
export const MANAGED_BY = 'auth-maintenance';
