/**
 * The schedules, declared in code: their shape, and below, the table of every built-in job's schedules, with the
 * cadence of the cron jobs and Celery beat entries they replace; times are UTC unless a declaration says otherwise.
 * The config file may override them (temporal-schedules/overrides.ts); temporal-schedules/sync.ts makes the server
 * match them.
 */

import { SCHEDULE_BUDGET } from '../purge/budget.js';

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

/* When each job runs: the schedules a deployment gets, by job. A new job's schedules are its row here; custom rules have none. */

/** A schedule that never overlaps itself, in UTC unless it says otherwise. */
export function schedule(d: Omit<ScheduleDefaults, 'timezone' | 'overlap'> & Partial<ScheduleDefaults>): ScheduleDefaults {
  return { timezone: 'UTC', overlap: 'SKIP', ...d };
}

/**
 * A purge: never twice at once, a day's tick may still run 6 hours late, a failure pauses it for a human. Its runs
 * keep the gentle budget (src/purge/budget.ts): a scheduled purge on a busy database must not be felt.
 */
function purgeSchedule(d: Pick<ScheduleDefaults, 'id' | 'cron' | 'note'> & Partial<ScheduleDefaults>): ScheduleDefaults {
  return schedule({ catchupWindow: '6h', pauseOnFailure: true, jitter: '5m', ...d, params: { budget: SCHEDULE_BUDGET, ...d.params } });
}

/** The schedules of every built-in job. A purge never runs twice at once: a run still going at the next tick makes that tick a no-op. */
export const JOB_SCHEDULES: Record<string, readonly ScheduleDefaults[]> = {
  'purge-expired-tokens': [purgeSchedule({ id: 'maint-purge-expired-tokens-daily', cron: ['0 0 * * *'], note: 'Daily purge of expired refresh tokens and their blacklist rows (replaces flushexpiredtokens under cron).' })],
  'revoke-then-delete-access-tokens': [purgeSchedule({ id: 'maint-revoke-then-delete-access-tokens-daily', cron: ['30 0 * * *'], note: 'Daily: mark expired access tokens revoked, delete tokens revoked over 90 days ago.' })],
  'purge-verification-tokens': [
    purgeSchedule({ id: 'maint-verification-tokens-hourly', params: { types: ['email_verification', 'password_reset'] }, cron: ['15 * * * *'], catchupWindow: '30m', jitter: '2m', note: 'Hourly: expired email-verification and password-reset tokens (the high-volume types).' }),
    purgeSchedule({ id: 'maint-verification-tokens-daily', cron: ['0 2 * * *'], note: 'Daily 02:00 UTC full pass over every verification token type.' }),
  ],
  'purge-stale-unverified-accounts': [purgeSchedule({ id: 'maint-stale-unverified-accounts-daily', cron: ['0 1 * * *'], jitter: '10m', note: 'Daily: accounts never verified within 90 days of sign-up, with everything that belongs to them.' })],
  'purge-email-change-requests': [purgeSchedule({ id: 'maint-email-change-requests-daily', cron: ['10 1 * * *'], jitter: '10m', note: 'Daily: completed email change requests, and incomplete ones older than 7 days.' })],
  'purge-pending-registrations': [purgeSchedule({ id: 'maint-pending-registrations-daily', cron: ['20 1 * * *'], jitter: '10m', note: 'Daily: expired pending registrations and one-time passwords.' })],
  'purge-oauth-tokens': [purgeSchedule({ id: 'maint-oauth-tokens-daily', cron: ['40 0 * * *'], note: 'Daily: like cleartokens, revoked refresh tokens past their lifespan, expired access and ID tokens, grants.' })],
  'django-simplejwt-flush-expired': [purgeSchedule({ id: 'maint-django-simplejwt-flush-expired-daily', cron: ['0 0 * * *'], note: 'Daily flushexpiredtokens on the tables of a Django app (enable in maint.config.yaml).', enabledByDefault: false })],
  'django-oauth-toolkit-cleartokens': [purgeSchedule({ id: 'maint-django-oauth-toolkit-cleartokens-daily', cron: ['40 0 * * *'], note: 'Daily cleartokens on the tables of a Django app (enable in maint.config.yaml).', enabledByDefault: false })],
  'django-clearsessions': [purgeSchedule({ id: 'maint-django-clearsessions-daily', cron: ['50 0 * * *'], note: 'Daily clearsessions on the django_session table of a Django app (enable in maint.config.yaml).', enabledByDefault: false })],
  'hidp-remove-stale-unverified-accounts': [purgeSchedule({ id: 'maint-hidp-remove-stale-unverified-accounts-daily', cron: ['0 1 * * *'], jitter: '10m', note: "Daily remove_stale_unverified_accounts on a HIdP app's tables (enable in maint.config.yaml).", enabledByDefault: false })],
  'hidp-remove-complete-and-stale-email-change-requests': [purgeSchedule({ id: 'maint-hidp-email-change-requests-daily', cron: ['10 1 * * *'], jitter: '10m', note: "Daily remove_complete_and_stale_email_change_requests on a HIdP app's tables (enable in maint.config.yaml).", enabledByDefault: false })],
  'keypair-cleanup': [schedule({ id: 'maint-keypair-cleanup-monthly', cron: ['0 5 1 * *'], catchupWindow: '2d', pauseOnFailure: true, jitter: '10m', note: 'Monthly: withdraw retired keys whose tokens expired; delete inactive keys older than 180 days.' })],
  'scopes': [schedule({ id: 'maint-scopes-weekly', cron: ['30 4 * * 1'], catchupWindow: '1d', pauseOnFailure: false, jitter: '10m', note: 'Weekly: make sure the default scopes exist (base, image_upload, event_management, admin).' })],
  // A provider that is down must not stop tomorrow's refresh (no pause on failure): the run reports it and keeps the last good copy.
  'refresh-jwks': [schedule({ id: 'maint-refresh-jwks-daily', cron: ['0 3 * * *'], catchupWindow: '6h', pauseOnFailure: false, jitter: '10m', note: "Daily: refresh each OIDC provider's JWKS, keep the last good copy when a fetch fails." })],
  // Weekly, it is only a check: a rotation rotates when the signing key is older than KEY_ROTATE_AFTER_DAYS.
  'key-rotation': [schedule({ id: 'maint-key-rotation-weekly', cron: ['0 4 * * 1'], catchupWindow: '1d', pauseOnFailure: true, jitter: '10m', note: 'Weekly rotation check: rotate the signing key once it is 30 days old (at most 3 keys in the JWKS).' })],
  'health-report': [
    schedule({ id: 'maint-health-report-daily', cron: ['0 6 * * *'], catchupWindow: '6h', pauseOnFailure: false, note: 'Daily health report: tokens, keys, activity of the last 24 h, status and recommendations.' }),
    schedule({ id: 'maint-health-report-weekly', cron: ['0 3 * * 0'], catchupWindow: '1d', pauseOnFailure: false, note: "Weekly report, Sunday 03:00 UTC (the seeds' weekly summary)." }),
  ],
};
