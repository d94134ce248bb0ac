import { InputError } from '../../kernel/errors.js';
import type { JobDefinition, PurgeParams, RetentionRule } from '../types.js';

/**
 * django-oauth-toolkit's `cleartokens` on its `oauth2_provider` tables, version by version, as retention rules.
 * Every step does to dependent rows what Django does in Python (its foreign keys are DEFERRABLE, its CASCADE and
 * SET_NULL are emulated), or the batch would fail at commit. Its parameters (`refreshTokenExpireSeconds`,
 * `dotVersion`) are checked with the other purge parameters (src/purge/params.ts).
 */

const DOT_VERSION_REQUIRED =
  'django-oauth-toolkit-cleartokens needs the django-oauth-toolkit version the app runs (--dot-version), e.g. 1.7, 2.4 or 3.0: ' +
  'before 2.3 cleartokens keeps expired ID tokens, from 2.3 on it deletes those no access token references';

/** django-oauth-toolkit 2.3 added the deletion of expired ID tokens to `clear_expired`. */
export function dotClearsIdTokens(version: string): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return major > 2 || (major === 2 && minor >= 3);
}

const T = {
  access: 'oauth2_provider_accesstoken',
  refresh: 'oauth2_provider_refreshtoken',
  idToken: 'oauth2_provider_idtoken',
  grant: 'oauth2_provider_grant',
};

/** Deleting a refresh token: Django sets `source_refresh_token` of the access tokens refreshed from it to NULL. */
const unlinkRefreshedAccessTokens = [{ table: T.access, foreignKey: 'source_refresh_token_id', onDelete: 'set-null' as const }];

/**
 * Rows of `table` expired before now that no row of `referrer` references (by `foreignKey`). The keys keep their
 * order: a run's fingerprint is the JSON of its steps.
 */
function expiredUnreferenced(table: string, referrerName: string, referrer: string, foreignKey: string): RetentionRule {
  const where = [{ op: 'not_referenced' as const, table: referrer, foreignKey }];
  return { name: `${table} (expired, no ${referrerName})`, table, primaryKey: 'id', timestampColumn: 'expires', retentionMs: 0, where, children: [] };
}

/**
 * `oauth2_provider.models.clear_expired`, step by step, with `now` the run's reference time and
 * `refresh_expire_at = now - REFRESH_TOKEN_EXPIRE_SECONDS`:
 * 1. refresh tokens revoked before refresh_expire_at;
 * 2. refresh tokens whose access token expired before refresh_expire_at;
 *    (neither when REFRESH_TOKEN_EXPIRE_SECONDS is unset or 0)
 * 3. access tokens expired before now that no refresh token references (an expired access token that still
 *    has a refresh token stays: the refresh token needs it);
 * 4. from 2.3 on: ID tokens expired before now that no access token references;
 * 5. grants expired before now.
 * Later steps see what earlier ones deleted, as in Django: each step runs to its end before the next starts.
 */
export function dotCleartokensSteps(params: Pick<PurgeParams, 'refreshTokenExpireSeconds' | 'dotVersion'>): RetentionRule[] {
  if (!params.dotVersion) throw new InputError('dotVersion', DOT_VERSION_REQUIRED);
  const lifespanMs = (params.refreshTokenExpireSeconds ?? 0) * 1000;
  const steps: RetentionRule[] = [];
  if (lifespanMs > 0) {
    steps.push(
      {
        name: `${T.refresh} (revoked before now - REFRESH_TOKEN_EXPIRE_SECONDS)`,
        table: T.refresh,
        primaryKey: 'id',
        timestampColumn: 'revoked',
        retentionMs: lifespanMs,
        children: unlinkRefreshedAccessTokens,
      },
      {
        name: `${T.refresh} (access token expired before now - REFRESH_TOKEN_EXPIRE_SECONDS)`,
        table: T.refresh,
        primaryKey: 'id',
        // The test is on the access token's expiry; `created < now` only walks the table (rows are created
        // before they are cleared: a row created after the run's reference time waits for the next run).
        timestampColumn: 'created',
        retentionMs: 0,
        where: [{ op: 'referenced_row_older', column: 'access_token_id', table: T.access, references: 'id', timestampColumn: 'expires', retentionMs: lifespanMs }],
        children: unlinkRefreshedAccessTokens,
      },
    );
  }
  steps.push(expiredUnreferenced(T.access, 'refresh token', T.refresh, 'access_token_id'));
  if (dotClearsIdTokens(params.dotVersion)) steps.push(expiredUnreferenced(T.idToken, 'access token', T.access, 'id_token_id'));
  steps.push({ name: `${T.grant} (expired)`, table: T.grant, primaryKey: 'id', timestampColumn: 'expires', retentionMs: 0, children: [] });
  return steps;
}

export const OAUTH_TOOLKIT_PURGES: readonly JobDefinition[] = [
  {
    name: 'django-oauth-toolkit-cleartokens',
    description: "Preset for django-oauth-toolkit's oauth2_provider tables: what `manage.py cleartokens` deletes, in batches",
    preset: 'django-oauth-toolkit oauth2_provider',
    matches:
      'django-oauth-toolkit 1.1 to 3.x (cleartokens); --dot-version picks the semantics: before 2.3 expired ID tokens stay, from 2.3 on those no access token references go. ' +
      'Steps shown for 3.x with REFRESH_TOKEN_EXPIRE_SECONDS = 86400; without it steps 1 and 2 do not exist',
    // Shown by `maint jobs`: a 3.x app with a one-day refresh lifespan.
    steps: dotCleartokensSteps({ dotVersion: '3.0', refreshTokenExpireSeconds: 86_400 }),
    stepsFor: dotCleartokensSteps,
    djangoParams: ['refreshTokenExpireSeconds', 'dotVersion'],
  },
];
