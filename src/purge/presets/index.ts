import { InputError } from '../../kernel/errors.js';
import { dotCleartokensSteps, PRESET_VERSIONS, SIMPLEJWT_FLUSH_STEPS } from './django.js';
import type { JobDefinition, PurgeParams, RetentionRule } from '../types.js';
import type { ScheduleDefaults } from '../../../temporal-schedules/declarations.js';
import { schedule } from '../../catalogue/entry.js';

/**
 * The built-in purges: each is a list of retention rules run by the one batched-purge workflow, with the
 * schedules a deployment gets for it. A new purge is one entry here.
 */

const DAY_MS = 86_400_000;

/** A purge: never twice at once, a day's tick may still run 6 hours late, a failure pauses it for a human. */
function purgeSchedule(d: Pick<ScheduleDefaults, 'id' | 'cron' | 'note'> & Partial<ScheduleDefaults>): ScheduleDefaults {
  return schedule({ catchupWindow: '6h', pauseOnFailure: true, jitter: '5m', ...d });
}

/** A step deleting by the `id` key (the order of its fields is kept: a run's rules are fingerprinted as JSON). */
function step(s: Pick<RetentionRule, 'table' | 'timestampColumn'> & Partial<Pick<RetentionRule, 'name' | 'retentionMs' | 'where' | 'action' | 'children'>>): RetentionRule {
  return {
    ...(s.name ? { name: s.name } : {}),
    table: s.table,
    primaryKey: 'id',
    timestampColumn: s.timestampColumn,
    retentionMs: s.retentionMs ?? 0,
    ...(s.where ? { where: s.where } : {}),
    ...(s.action ? { action: s.action } : {}),
    children: s.children ?? [],
  };
}

const blacklist = { table: 'blacklisted_token', foreignKey: 'token_id' };

/** Everything that belongs to an account, deleted with it (children before parents). */
const accountChildren = [
  { table: 'access_token', foreignKey: 'user_id' },
  { table: 'verification_token', foreignKey: 'user_id' },
  { table: 'email_change_request', foreignKey: 'user_id' },
  { table: 'user_otp', foreignKey: 'user_id' },
  { table: 'outstanding_token', foreignKey: 'user_id', primaryKey: 'id', children: [blacklist] },
  { table: 'oauth_refresh_token', foreignKey: 'user_id' },
  { table: 'oauth_access_token', foreignKey: 'user_id' },
  { table: 'oauth_id_token', foreignKey: 'user_id' },
  { table: 'oauth_grant', foreignKey: 'user_id' },
];

export const VERIFICATION_TOKEN_TYPES = ['email_verification', 'password_reset', 'email_change', 'magic_link', 'phone_verification'];

/** django-oauth-toolkit's `cleartokens`, in an order that never breaks a foreign key. */
function oauthSteps(t: { refresh: string; access: string; idToken: string; grant: string; expires: string; revoked: string }): RetentionRule[] {
  const setNull = (table: string, foreignKey: string) => [{ table, foreignKey, onDelete: 'set-null' as const }];
  return [
    step({ name: `${t.refresh} (revoked past the refresh lifespan)`, table: t.refresh, timestampColumn: t.revoked, retentionMs: 30 * DAY_MS, children: setNull(t.access, 'source_refresh_token_id') }),
    // A refresh token outlives its access token (that is what refreshing is for): it only loses the link.
    step({ name: `${t.access} (expired)`, table: t.access, timestampColumn: t.expires, children: setNull(t.refresh, 'access_token_id') }),
    step({ name: `${t.idToken} (expired)`, table: t.idToken, timestampColumn: t.expires, children: setNull(t.access, 'id_token_id') }),
    step({ name: `${t.grant} (expired)`, table: t.grant, timestampColumn: t.expires }),
  ];
}

/** The jobs this service knows. Each is a list of retention rules run by the one batched-purge workflow. */
export const PURGE_JOBS: readonly JobDefinition[] = [
  {
    name: 'purge-expired-tokens',
    description: 'Delete outstanding (refresh) tokens whose expires_at is in the past, with their blacklist rows',
    steps: [step({ table: 'outstanding_token', timestampColumn: 'expires_at', children: [blacklist] })],
    schedules: [
      // A purge never runs twice at once: a run still going at the next tick makes that tick a no-op.
      purgeSchedule({ id: 'maint-purge-expired-tokens-daily', cron: ['0 0 * * *'], note: 'Daily purge of expired refresh tokens and their blacklist rows (replaces flushexpiredtokens under cron).' }),
    ],
  },
  {
    name: 'revoke-then-delete-access-tokens',
    description: 'Mark expired access tokens revoked (kept for audit), then delete tokens revoked more than --days ago',
    steps: [
      step({
        name: 'access_token (marked revoked)',
        table: 'access_token',
        timestampColumn: 'expires_at',
        where: [{ column: 'revoked', op: 'is_false' }],
        action: { type: 'update', set: { revoked: true, revoked_at: { runTime: true } } },
      }),
      step({ name: 'access_token (deleted)', table: 'access_token', timestampColumn: 'revoked_at', retentionMs: 90 * DAY_MS, where: [{ column: 'revoked', op: 'is_true' }] }),
    ],
    options: { days: { default: 90, steps: [1], meaning: 'delete revoked tokens older than this' } },
    schedules: [purgeSchedule({ id: 'maint-revoke-then-delete-access-tokens-daily', cron: ['30 0 * * *'], note: 'Daily: mark expired access tokens revoked, delete tokens revoked over 90 days ago.' })],
  },
  {
    name: 'purge-verification-tokens',
    description: 'Delete expired verification tokens (email verification, password reset, ...), selectable by --types',
    steps: [step({ table: 'verification_token', timestampColumn: 'expires_at' })],
    options: { types: { column: 'token_type', allowed: VERIFICATION_TOKEN_TYPES, steps: [0] } },
    schedules: [
      purgeSchedule({ id: 'maint-verification-tokens-hourly', params: { types: ['email_verification', 'password_reset'] }, cron: ['15 * * * *'], catchupWindow: '30m', jitter: '2m', note: 'Hourly: expired email-verification and password-reset tokens (the high-volume types).' }),
      purgeSchedule({ id: 'maint-verification-tokens-daily', cron: ['0 2 * * *'], note: 'Daily 02:00 UTC full pass over every verification token type.' }),
    ],
  },
  {
    name: 'purge-stale-unverified-accounts',
    description: 'Delete accounts not verified within --days of creation, with everything that belongs to them; verified accounts are never touched',
    steps: [step({ table: 'account', timestampColumn: 'created_at', retentionMs: 90 * DAY_MS, where: [{ column: 'is_verified', op: 'is_false' }], children: accountChildren })],
    options: { days: { default: 90, steps: [0], meaning: 'accounts created longer ago than this and still unverified' } },
    schedules: [purgeSchedule({ id: 'maint-stale-unverified-accounts-daily', cron: ['0 1 * * *'], jitter: '10m', note: 'Daily: accounts never verified within 90 days of sign-up, with everything that belongs to them.' })],
  },
  {
    name: 'purge-email-change-requests',
    description: 'Delete completed email change requests, and incomplete ones older than --days',
    steps: [
      step({ name: 'email_change_request (completed)', table: 'email_change_request', timestampColumn: 'completed_at' }),
      step({ name: 'email_change_request (stale, incomplete)', table: 'email_change_request', timestampColumn: 'created_at', retentionMs: 7 * DAY_MS, where: [{ column: 'completed_at', op: 'is_null' }] }),
    ],
    options: { days: { default: 7, steps: [1], meaning: 'incomplete requests older than this' } },
    schedules: [purgeSchedule({ id: 'maint-email-change-requests-daily', cron: ['10 1 * * *'], jitter: '10m', note: 'Daily: completed email change requests, and incomplete ones older than 7 days.' })],
  },
  {
    name: 'purge-pending-registrations',
    description: 'Delete pending registrations and one-time passwords past their expiry',
    steps: [
      step({ table: 'pending_registration', timestampColumn: 'expires_at' }),
      step({ table: 'user_otp', timestampColumn: 'expires_at' }),
    ],
    schedules: [purgeSchedule({ id: 'maint-pending-registrations-daily', cron: ['20 1 * * *'], jitter: '10m', note: 'Daily: expired pending registrations and one-time passwords.' })],
  },
  {
    name: 'purge-oauth-tokens',
    description: "Like django-oauth-toolkit's cleartokens: revoked refresh tokens past --days, expired access and ID tokens, expired grants",
    steps: oauthSteps({ refresh: 'oauth_refresh_token', access: 'oauth_access_token', idToken: 'oauth_id_token', grant: 'oauth_grant', expires: 'expires_at', revoked: 'revoked_at' }),
    options: { days: { default: 30, steps: [0], meaning: 'refresh token lifespan after revocation' } },
    schedules: [purgeSchedule({ id: 'maint-oauth-tokens-daily', cron: ['40 0 * * *'], note: 'Daily: like cleartokens, revoked refresh tokens past their lifespan, expired access and ID tokens, grants.' })],
  },
  {
    name: 'django-simplejwt-flush-expired',
    description: "Preset for djangorestframework-simplejwt's token_blacklist tables: expired outstanding tokens with their blacklist rows (flushexpiredtokens)",
    preset: 'djangorestframework-simplejwt token_blacklist',
    matches: PRESET_VERSIONS['django-simplejwt-flush-expired'],
    steps: SIMPLEJWT_FLUSH_STEPS,
    schedules: [purgeSchedule({ id: 'maint-django-simplejwt-flush-expired-daily', cron: ['0 0 * * *'], note: 'Daily flushexpiredtokens on the tables of a Django app (enable in maint.config.yaml).', enabledByDefault: false })],
  },
  {
    name: 'django-oauth-toolkit-cleartokens',
    description: "Preset for django-oauth-toolkit's oauth2_provider tables: what `manage.py cleartokens` deletes, in batches",
    preset: 'django-oauth-toolkit oauth2_provider',
    matches: PRESET_VERSIONS['django-oauth-toolkit-cleartokens'],
    // Shown by `maint jobs`: a 3.x app with a one-day refresh lifespan.
    steps: dotCleartokensSteps({ dotVersion: '3.0', refreshTokenExpireSeconds: 86_400 }),
    stepsFor: dotCleartokensSteps,
    djangoParams: ['refreshTokenExpireSeconds', 'dotVersion'],
    schedules: [purgeSchedule({ id: 'maint-django-oauth-toolkit-cleartokens-daily', cron: ['40 0 * * *'], note: 'Daily cleartokens on the tables of a Django app (enable in maint.config.yaml).', enabledByDefault: false })],
  },
];

/** The job's steps with the run's `days` and `types` applied; rejects options the job does not take. */
export function applyJobParams(job: JobDefinition, params: PurgeParams): RetentionRule[] {
  for (const key of ['refreshTokenExpireSeconds', 'dotVersion'] as const) {
    if (params[key] !== undefined && !job.djangoParams?.includes(key)) {
      throw new InputError(key, `job ${job.name} takes no ${key}; jobs that do: ${PURGE_JOBS.filter((j) => j.djangoParams?.includes(key)).map((j) => j.name).join(', ')}`);
    }
  }
  const steps = (job.stepsFor ? job.stepsFor(params) : job.steps).map((s) => ({ ...s, where: [...(s.where ?? [])] }));
  if (params.days !== undefined) {
    if (!job.options?.days) throw new InputError('days', `job ${job.name} takes no --days; jobs that do: ${PURGE_JOBS.filter((j) => j.options?.days).map((j) => j.name).join(', ')}`);
    for (const i of job.options.days.steps) steps[i]!.retentionMs = params.days * DAY_MS;
  }
  if (params.types !== undefined) {
    const t = job.options?.types;
    if (!t) throw new InputError('types', `job ${job.name} takes no --types; jobs that do: ${PURGE_JOBS.filter((j) => j.options?.types).map((j) => j.name).join(', ')}`);
    const unknown = params.types.filter((x) => !t.allowed.includes(x));
    if (unknown.length) throw new InputError('types', `unknown type ${unknown.map((u) => `"${u}"`).join(', ')}; allowed: ${t.allowed.join(', ')}`);
    for (const i of t.steps) steps[i]!.where.push({ column: t.column, op: 'in', values: params.types });
  }
  return steps.map(({ where, ...rest }) => (where.length ? { ...rest, where } : rest));
}
