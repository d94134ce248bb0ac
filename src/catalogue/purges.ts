import { givenPurgeParams, parsePurgeParams } from '../purge/params.js';
import { applyJobParams } from '../purge/rules.js';
import type { JobDefinition } from '../purge/types.js';
import type { ScheduleDefaults } from '../../temporal-schedules/declarations.js';
import { schedule, type JobEntry } from './entry.js';

/** A purge: never twice at once, a day's tick may still run 6 hours late, a failure pauses it for a human. */
function purgeSchedule(d: Pick<ScheduleDefaults, 'id' | 'cron' | 'note'> & Partial<ScheduleDefaults>): ScheduleDefaults {
  return schedule({ catchupWindow: '6h', pauseOnFailure: true, jitter: '5m', ...d });
}

/**
 * When each built-in purge runs (its rules are in src/purge/presets/). A purge never runs twice at once: a run still
 * going at the next tick makes that tick a no-op. Custom rules have none.
 */
const PURGE_SCHEDULES: Record<string, readonly ScheduleDefaults[]> = {
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
};

/** A purge's entry: its rules, run by the one batched-purge workflow. */
export function purgeEntry(job: JobDefinition): JobEntry {
  return {
    name: job.name,
    description: job.description,
    workflow: 'batchedPurge',
    parseParams(params) {
      const given = givenPurgeParams(params);
      // The job's own options (days, types, the preset's version) are checked against its rules.
      applyJobParams(job, parsePurgeParams(given));
      return given;
    },
    flags: ['dryRun', 'batchSize', 'asOf', 'parallel', ...(job.options?.days ? (['days'] as const) : []), ...(job.options?.types ? (['types'] as const) : []), ...(job.djangoParams ?? [])],
    schedules: PURGE_SCHEDULES[job.name] ?? [],
    purge: job,
  };
}
