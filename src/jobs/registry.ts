import { InputError } from '../config.js';
import type { PurgeParams, RetentionRule } from './types.js';
import { customJobs } from './custom-rules.js';
import { loadConfigFile } from './config-file.js';
import { dotCleartokensSteps, PRESET_VERSIONS, SIMPLEJWT_FLUSH_STEPS } from './django.js';

const DAY_MS = 86_400_000;

export interface JobOptions {
  /** `--days`: the retention of the listed steps, in days. */
  days?: { default: number; steps: number[]; meaning: string };
  /** `--types`: rows whose `column` is one of the chosen types (all allowed types by default). */
  types?: { column: string; allowed: string[]; steps: number[] };
}

export interface JobDefinition {
  name: string;
  description: string;
  /** The workflow that runs this job; every deleting job is the one batched purge. */
  workflowType: 'batchedPurge';
  /** Run in order; each step runs to its end before the next starts. */
  steps: RetentionRule[];
  options?: JobOptions;
  /** Targets tables another application owns (Django): only reads and deletes, never migrates. */
  preset?: string;
  /** Upstream versions whose behaviour a preset reproduces. */
  matches?: string;
  /**
   * Steps that depend on the run's parameters (the cleartokens preset: its refresh lifespan and version);
   * `steps` then shows the default shape.
   */
  stepsFor?: (params: PurgeParams) => RetentionRule[];
  /** Django-only parameters the job takes (`refreshTokenExpireSeconds`, `dotVersion`). */
  djangoParams?: Array<'refreshTokenExpireSeconds' | 'dotVersion'>;
  /** Declared in the config file's `rules:` section. */
  custom?: boolean;
  defaultBatchSize?: number;
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
  return [
    {
      name: `${t.refresh} (revoked past the refresh lifespan)`,
      table: t.refresh,
      primaryKey: 'id',
      timestampColumn: t.revoked,
      retentionMs: 30 * DAY_MS,
      children: [{ table: t.access, foreignKey: 'source_refresh_token_id', onDelete: 'set-null' }],
    },
    {
      name: `${t.access} (expired)`,
      table: t.access,
      primaryKey: 'id',
      timestampColumn: t.expires,
      retentionMs: 0,
      // A refresh token outlives its access token (that is what refreshing is for): it only loses the link.
      children: [{ table: t.refresh, foreignKey: 'access_token_id', onDelete: 'set-null' }],
    },
    {
      name: `${t.idToken} (expired)`,
      table: t.idToken,
      primaryKey: 'id',
      timestampColumn: t.expires,
      retentionMs: 0,
      children: [{ table: t.access, foreignKey: 'id_token_id', onDelete: 'set-null' }],
    },
    { name: `${t.grant} (expired)`, table: t.grant, primaryKey: 'id', timestampColumn: t.expires, retentionMs: 0, children: [] },
  ];
}

/** The jobs this service knows. Each is a list of retention rules run by the one batched-purge workflow. */
export const JOBS: readonly JobDefinition[] = [
  {
    name: 'purge-expired-tokens',
    description: 'Delete outstanding (refresh) tokens whose expires_at is in the past, with their blacklist rows',
    workflowType: 'batchedPurge',
    steps: [{ table: 'outstanding_token', primaryKey: 'id', timestampColumn: 'expires_at', retentionMs: 0, children: [blacklist] }],
  },
  {
    name: 'revoke-then-delete-access-tokens',
    description: 'Mark expired access tokens revoked (kept for audit), then delete tokens revoked more than --days ago',
    workflowType: 'batchedPurge',
    steps: [
      {
        name: 'access_token (marked revoked)',
        table: 'access_token',
        primaryKey: 'id',
        timestampColumn: 'expires_at',
        retentionMs: 0,
        where: [{ column: 'revoked', op: 'is_false' }],
        action: { type: 'update', set: { revoked: true, revoked_at: { runTime: true } } },
        children: [],
      },
      {
        name: 'access_token (deleted)',
        table: 'access_token',
        primaryKey: 'id',
        timestampColumn: 'revoked_at',
        retentionMs: 90 * DAY_MS,
        where: [{ column: 'revoked', op: 'is_true' }],
        children: [],
      },
    ],
    options: { days: { default: 90, steps: [1], meaning: 'delete revoked tokens older than this' } },
  },
  {
    name: 'purge-verification-tokens',
    description: 'Delete expired verification tokens (email verification, password reset, ...), selectable by --types',
    workflowType: 'batchedPurge',
    steps: [{ table: 'verification_token', primaryKey: 'id', timestampColumn: 'expires_at', retentionMs: 0, children: [] }],
    options: { types: { column: 'token_type', allowed: VERIFICATION_TOKEN_TYPES, steps: [0] } },
  },
  {
    name: 'purge-stale-unverified-accounts',
    description: 'Delete accounts not verified within --days of creation, with everything that belongs to them; verified accounts are never touched',
    workflowType: 'batchedPurge',
    steps: [
      {
        table: 'account',
        primaryKey: 'id',
        timestampColumn: 'created_at',
        retentionMs: 90 * DAY_MS,
        where: [{ column: 'is_verified', op: 'is_false' }],
        children: accountChildren,
      },
    ],
    options: { days: { default: 90, steps: [0], meaning: 'accounts created longer ago than this and still unverified' } },
  },
  {
    name: 'purge-email-change-requests',
    description: 'Delete completed email change requests, and incomplete ones older than --days',
    workflowType: 'batchedPurge',
    steps: [
      { name: 'email_change_request (completed)', table: 'email_change_request', primaryKey: 'id', timestampColumn: 'completed_at', retentionMs: 0, children: [] },
      {
        name: 'email_change_request (stale, incomplete)',
        table: 'email_change_request',
        primaryKey: 'id',
        timestampColumn: 'created_at',
        retentionMs: 7 * DAY_MS,
        where: [{ column: 'completed_at', op: 'is_null' }],
        children: [],
      },
    ],
    options: { days: { default: 7, steps: [1], meaning: 'incomplete requests older than this' } },
  },
  {
    name: 'purge-pending-registrations',
    description: 'Delete pending registrations and one-time passwords past their expiry',
    workflowType: 'batchedPurge',
    steps: [
      { table: 'pending_registration', primaryKey: 'id', timestampColumn: 'expires_at', retentionMs: 0, children: [] },
      { table: 'user_otp', primaryKey: 'id', timestampColumn: 'expires_at', retentionMs: 0, children: [] },
    ],
  },
  {
    name: 'purge-oauth-tokens',
    description: "Like django-oauth-toolkit's cleartokens: revoked refresh tokens past --days, expired access and ID tokens, expired grants",
    workflowType: 'batchedPurge',
    steps: oauthSteps({ refresh: 'oauth_refresh_token', access: 'oauth_access_token', idToken: 'oauth_id_token', grant: 'oauth_grant', expires: 'expires_at', revoked: 'revoked_at' }),
    options: { days: { default: 30, steps: [0], meaning: 'refresh token lifespan after revocation' } },
  },
  {
    name: 'django-simplejwt-flush-expired',
    description: "Preset for djangorestframework-simplejwt's token_blacklist tables: expired outstanding tokens with their blacklist rows (flushexpiredtokens)",
    workflowType: 'batchedPurge',
    preset: 'djangorestframework-simplejwt token_blacklist',
    matches: PRESET_VERSIONS['django-simplejwt-flush-expired'],
    steps: SIMPLEJWT_FLUSH_STEPS,
  },
  {
    name: 'django-oauth-toolkit-cleartokens',
    description: "Preset for django-oauth-toolkit's oauth2_provider tables: what `manage.py cleartokens` deletes, in batches",
    workflowType: 'batchedPurge',
    preset: 'django-oauth-toolkit oauth2_provider',
    matches: PRESET_VERSIONS['django-oauth-toolkit-cleartokens'],
    // Shown by `maint jobs`: a 3.x app with a one-day refresh lifespan.
    steps: dotCleartokensSteps({ dotVersion: '3.0', refreshTokenExpireSeconds: 86_400 }),
    stepsFor: dotCleartokensSteps,
    djangoParams: ['refreshTokenExpireSeconds', 'dotVersion'],
  },
];

let custom: { source: unknown; jobs: JobDefinition[] } | undefined;

/** Built-in jobs plus the custom rules of the config file (validated once per process). */
export function allJobs(config: unknown = loadConfigFile()): JobDefinition[] {
  if (!custom || custom.source !== config) custom = { source: config, jobs: customJobs(config, JOBS.map((j) => j.name)) };
  return [...JOBS, ...custom.jobs];
}

export function jobNames(): string[] {
  return allJobs().map((j) => j.name);
}

export function findJob(name: string): JobDefinition {
  const job = allJobs().find((j) => j.name === name);
  if (!job) throw new InputError('job', `unknown job "${name}"; allowed: ${jobNames().join(', ')}`);
  return job;
}

/** The job's steps with the run's `days` and `types` applied; rejects options the job does not take. */
export function applyJobParams(job: JobDefinition, params: PurgeParams): RetentionRule[] {
  for (const key of ['refreshTokenExpireSeconds', 'dotVersion'] as const) {
    if (params[key] !== undefined && !job.djangoParams?.includes(key)) {
      throw new InputError(key, `job ${job.name} takes no ${key}; jobs that do: ${JOBS.filter((j) => j.djangoParams?.includes(key)).map((j) => j.name).join(', ')}`);
    }
  }
  const steps = (job.stepsFor ? job.stepsFor(params) : job.steps).map((s) => ({ ...s, where: [...(s.where ?? [])] }));
  if (params.days !== undefined) {
    if (!job.options?.days) throw new InputError('days', `job ${job.name} takes no --days; jobs that do: ${JOBS.filter((j) => j.options?.days).map((j) => j.name).join(', ')}`);
    for (const i of job.options.days.steps) steps[i]!.retentionMs = params.days * DAY_MS;
  }
  if (params.types !== undefined) {
    const t = job.options?.types;
    if (!t) throw new InputError('types', `job ${job.name} takes no --types; jobs that do: ${JOBS.filter((j) => j.options?.types).map((j) => j.name).join(', ')}`);
    const unknown = params.types.filter((x) => !t.allowed.includes(x));
    if (unknown.length) throw new InputError('types', `unknown type ${unknown.map((u) => `"${u}"`).join(', ')}; allowed: ${t.allowed.join(', ')}`);
    for (const i of t.steps) steps[i]!.where.push({ column: t.column, op: 'in', values: params.types });
  }
  return steps.map(({ where, ...rest }) => (where.length ? { ...rest, where } : rest));
}
