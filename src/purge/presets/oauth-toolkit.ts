import { InputError } from '../../kernel/errors.js';
import type { JobDefinition, PurgeParams, RetentionRule } from '../types.js';

/**
 * django-oauth-toolkit's `cleartokens` on its `oauth2_provider` tables, version by version, as retention rules.
 * Every step does to dependent rows what Django does in Python (its foreign keys are DEFERRABLE, its CASCADE and
 * SET_NULL are emulated), or the batch would fail at commit. Its parameters (`dotVersion`,
 * `refreshTokenExpireSeconds`, `refreshTokenGracePeriodSeconds`, `refreshTokenReuseProtection`) are checked with
 * the other purge parameters (src/purge/params.ts) and against the version here.
 *
 * Every release's `clear_expired` was read at its tag (`git show <tag>:oauth2_provider/models.py` of
 * github.com/django-oauth/django-oauth-toolkit, 1.1.0 to 3.4.1; settings defaults in oauth2_provider/settings.py).
 * Releases whose `clear_expired` reads the same share a generation below; a version that is not a release read
 * here (3.5, 4.0, 1.7.9) is refused: its semantics were not read.
 */

/** How one generation of releases clears: what each step of `clear_expired` is. */
interface Generation {
  /** Revoked refresh tokens: before 3.4.0 `revoked < now - EXPIRE` (only with EXPIRE); from 3.4.0 `revoked <= now - GRACE`, or `<= now - EXPIRE` with REUSE_PROTECTION. */
  revoked: 'expire-lifespan' | 'grace-period';
  /** 3.4.1: unrevoked refresh tokens with no access token (`revoked IS NULL AND access_token IS NULL`), always. */
  orphans: boolean;
  /** Refresh tokens whose access token expired before `now - EXPIRE` (only with EXPIRE): any (`<`), or, from 3.4.1, unrevoked ones (`<=`). */
  idleExpiry: 'any-lt' | 'unrevoked-lte';
  /** 2.3.0: expired ID tokens no access token references. */
  idTokens: boolean;
  /** 1.3.0: expired grants. */
  grants: boolean;
  /** Unreleased main: expired pushed authorization requests (RFC 9126). No release has it yet. */
  pushedAuthorizationRequests: boolean;
}

/**
 * The releases read, by generation (tags of django-oauth-toolkit):
 * - 1.1.0 to 1.2.0: one transaction; refresh tokens (revoked, then idle) only with EXPIRE, then access tokens. No grant is deleted.
 * - 1.3.0 to 2.2.0: adds `grant_model.objects.filter(expires__lt=now).delete()`; from 1.6.0 each query in batches.
 * - 2.3.0 to 3.3.0: adds `id_token_query = models.Q(access_token__isnull=True, expires__lt=now)` after the access tokens.
 * - 3.4.0: `refresh_revoked_at = now - REFRESH_TOKEN_GRACE_PERIOD_SECONDS` (now when 0), `revoked__lte`; with
 *   REFRESH_TOKEN_REUSE_PROTECTION `refresh_revoked_at = refresh_expire_at` (None without EXPIRE: none deleted);
 *   the idle step `access_token__expires__lt=refresh_expire_at` is unchanged.
 * - 3.4.1: adds `orphan_query = models.Q(revoked__isnull=True, access_token__isnull=True)` after the revoked step;
 *   the idle step becomes `models.Q(revoked__isnull=True, access_token__expires__lte=refresh_expire_at)`.
 * - main after 3.4.1 (unreleased): adds `par_query = models.Q(expires__lt=now)` on the pushed authorization requests.
 */
const G_1_1: Generation = { revoked: 'expire-lifespan', orphans: false, idleExpiry: 'any-lt', idTokens: false, grants: false, pushedAuthorizationRequests: false };
const G_1_3: Generation = { ...G_1_1, grants: true };
const G_2_3: Generation = { ...G_1_3, idTokens: true };
const G_3_4_0: Generation = { ...G_2_3, revoked: 'grace-period' };
const G_3_4_1: Generation = { ...G_3_4_0, orphans: true, idleExpiry: 'unrevoked-lte' };

const RELEASES: ReadonlyArray<readonly [string, Generation]> = [
  ...['1.1.0', '1.1.1', '1.1.2', '1.1.3', '1.2.0'].map((v) => [v, G_1_1] as const),
  ...['1.3.0', '1.3.1', '1.3.2', '1.3.3', '1.4.0', '1.4.1', '1.5.0', '1.6.0', '1.6.1', '1.6.2', '1.6.3', '1.7.0', '1.7.1', '2.0.0', '2.1.0', '2.2.0'].map((v) => [v, G_1_3] as const),
  ...['2.3.0', '2.4.0', '3.0.0', '3.0.1', '3.1.0', '3.2.0', '3.3.0'].map((v) => [v, G_2_3] as const),
  ['3.4.0', G_3_4_0],
  ['3.4.1', G_3_4_1],
];

/** The newest release read: anything newer is refused, naming it. */
export const NEWEST_DOT_RELEASE = RELEASES[RELEASES.length - 1]![0];

const RELEASE_LIST = 'a django-oauth-toolkit release from 1.1.0 to ' + NEWEST_DOT_RELEASE + ' (major.minor where all its patch releases clear alike: 1.7, 2.4, 3.3; 3.4.0 or 3.4.1)';

function compare(a: string, b: string): number {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
  return 0;
}

/**
 * The generation of `version`, or why it is refused: a release read (`1.7.1`), or a major.minor whose releases
 * all clear alike (`1.7`). `3.4` is ambiguous (3.4.0 and 3.4.1 differ); 1.0 and older differ and are not
 * reproduced; anything newer than the newest release read was not read.
 */
export function dotGeneration(version: string): Generation | string {
  const exact = RELEASES.find(([v]) => v === version);
  if (exact) return exact[1];
  const m = /^(\d+)\.(\d+)$/.exec(version);
  if (m) {
    const patches = RELEASES.filter(([v]) => v.startsWith(`${version}.`));
    const kinds = [...new Set(patches.map(([, g]) => g))];
    if (kinds.length === 1) return kinds[0]!;
    if (kinds.length > 1) return `${version} is ambiguous: ${patches.map(([v]) => v).join(' and ')} clear differently; give the patch release the app runs`;
  }
  if (compare(version, NEWEST_DOT_RELEASE) > 0) return `${version} is newer than ${NEWEST_DOT_RELEASE}, the newest django-oauth-toolkit release whose cleartokens this preset reproduces; expected ${RELEASE_LIST}`;
  if (compare(version, '1.1.0') < 0) return `${version} is not supported: before 1.1.0 cleartokens differed (1.0 cleared access tokens only with a refresh lifespan and never revoked refresh tokens); expected ${RELEASE_LIST}`;
  return `${version} is not a django-oauth-toolkit release; expected ${RELEASE_LIST}`;
}

const DOT_VERSION_REQUIRED =
  'django-oauth-toolkit-cleartokens needs the django-oauth-toolkit version the app runs (--dot-version), e.g. 1.7, 2.4, 3.3 or 3.4.1: ' +
  'cleartokens deletes different rows from one version to the next';

const T = {
  access: 'oauth2_provider_accesstoken',
  refresh: 'oauth2_provider_refreshtoken',
  idToken: 'oauth2_provider_idtoken',
  grant: 'oauth2_provider_grant',
  pushedAuthorizationRequest: 'oauth2_provider_pushedauthorizationrequest',
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

/** A refresh token step with no timestamp of its own to test: it walks `created <= now` (every row cleartokens sees). */
function refreshWhere(name: string, where: NonNullable<RetentionRule['where']>): RetentionRule {
  return { name, table: T.refresh, primaryKey: 'id', timestampColumn: 'created', cutoffInclusive: true, retentionMs: 0, where, children: unlinkRefreshedAccessTokens };
}

/** The flags only some versions' clear_expired reads: refused elsewhere, naming the flag and the version. */
function refuseUnread(params: Pick<PurgeParams, 'refreshTokenGracePeriodSeconds' | 'refreshTokenReuseProtection'>, version: string): void {
  const unread = [
    ['refreshTokenGracePeriodSeconds', 'REFRESH_TOKEN_GRACE_PERIOD_SECONDS', '--refresh-token-grace-period-seconds'],
    ['refreshTokenReuseProtection', 'REFRESH_TOKEN_REUSE_PROTECTION', '--refresh-token-reuse-protection'],
  ] as const;
  for (const [key, setting, flag] of unread) {
    if (params[key] !== undefined) {
      throw new InputError(key, `django-oauth-toolkit ${version}'s clear_expired does not read ${setting} (3.4.0 and later do): leave ${flag} out for ${version}`);
    }
  }
}

/**
 * `oauth2_provider.models.clear_expired` of the app's version, step by step, with `now` the run's reference time,
 * EXPIRE = REFRESH_TOKEN_EXPIRE_SECONDS (unset or 0: none), GRACE = REFRESH_TOKEN_GRACE_PERIOD_SECONDS (default 0)
 * and REUSE = REFRESH_TOKEN_REUSE_PROTECTION (default False), as the generations above say:
 * 1. revoked refresh tokens (before 3.4.0 `revoked < now - EXPIRE`; from 3.4.0 `revoked <= now - GRACE`, with
 *    REUSE `revoked <= now - EXPIRE`, none without EXPIRE);
 * 2. from 3.4.1: unrevoked refresh tokens with no access token;
 * 3. with EXPIRE: refresh tokens whose access token expired before `now - EXPIRE` (from 3.4.1: unrevoked ones,
 *    at the cutoff too);
 * 4. access tokens expired before now that no refresh token references (an expired access token that still
 *    has a refresh token stays: the refresh token needs it);
 * 5. from 2.3.0: ID tokens expired before now that no access token references;
 * 6. from 1.3.0: grants expired before now.
 * Later steps see what earlier ones deleted, as in Django: each step runs to its end before the next starts.
 */
export function dotCleartokensSteps(
  params: Pick<PurgeParams, 'refreshTokenExpireSeconds' | 'dotVersion' | 'refreshTokenGracePeriodSeconds' | 'refreshTokenReuseProtection'>,
): RetentionRule[] {
  if (!params.dotVersion) throw new InputError('dotVersion', DOT_VERSION_REQUIRED);
  const g = dotGeneration(params.dotVersion);
  if (typeof g === 'string') throw new InputError('dotVersion', g);
  const lifespanMs = (params.refreshTokenExpireSeconds ?? 0) * 1000;
  const steps: RetentionRule[] = [];
  if (g.revoked === 'expire-lifespan') {
    refuseUnread(params, params.dotVersion);
    if (lifespanMs > 0) {
      steps.push({
        name: `${T.refresh} (revoked before now - REFRESH_TOKEN_EXPIRE_SECONDS)`,
        table: T.refresh,
        primaryKey: 'id',
        timestampColumn: 'revoked',
        retentionMs: lifespanMs,
        children: unlinkRefreshedAccessTokens,
      });
    }
  } else {
    // 3.4.0, 3.4.1: `if refresh_revoked_at:` with `revoked__lte=refresh_revoked_at`.
    const revokedCutoffMs = params.refreshTokenReuseProtection ? (lifespanMs > 0 ? lifespanMs : undefined) : (params.refreshTokenGracePeriodSeconds ?? 0) * 1000;
    if (revokedCutoffMs !== undefined) {
      const setting = params.refreshTokenReuseProtection ? 'REFRESH_TOKEN_EXPIRE_SECONDS (REFRESH_TOKEN_REUSE_PROTECTION)' : 'REFRESH_TOKEN_GRACE_PERIOD_SECONDS';
      steps.push({
        name: `${T.refresh} (revoked at or before now - ${setting})`,
        table: T.refresh,
        primaryKey: 'id',
        timestampColumn: 'revoked',
        cutoffInclusive: true,
        retentionMs: revokedCutoffMs,
        children: unlinkRefreshedAccessTokens,
      });
    }
  }
  if (g.orphans) {
    steps.push(refreshWhere(`${T.refresh} (unrevoked, no access token)`, [{ column: 'revoked', op: 'is_null' }, { column: 'access_token_id', op: 'is_null' }]));
  }
  if (lifespanMs > 0) {
    const older = { op: 'referenced_row_older' as const, column: 'access_token_id', table: T.access, references: 'id', timestampColumn: 'expires', retentionMs: lifespanMs };
    if (g.idleExpiry === 'any-lt') {
      steps.push({
        name: `${T.refresh} (access token expired before now - REFRESH_TOKEN_EXPIRE_SECONDS)`,
        table: T.refresh,
        primaryKey: 'id',
        // The test is on the access token's expiry; `created < now` only walks the table (rows are created
        // before they are cleared: a row created after the run's reference time waits for the next run).
        timestampColumn: 'created',
        retentionMs: 0,
        where: [older],
        children: unlinkRefreshedAccessTokens,
      });
    } else {
      steps.push(
        refreshWhere(`${T.refresh} (unrevoked, access token expired at or before now - REFRESH_TOKEN_EXPIRE_SECONDS)`, [
          { column: 'revoked', op: 'is_null' },
          { ...older, inclusive: true },
        ]),
      );
    }
  }
  steps.push(expiredUnreferenced(T.access, 'refresh token', T.refresh, 'access_token_id'));
  if (g.idTokens) steps.push(expiredUnreferenced(T.idToken, 'access token', T.access, 'id_token_id'));
  if (g.grants) steps.push({ name: `${T.grant} (expired)`, table: T.grant, primaryKey: 'id', timestampColumn: 'expires', retentionMs: 0, children: [] });
  if (g.pushedAuthorizationRequests) {
    steps.push({ name: `${T.pushedAuthorizationRequest} (expired)`, table: T.pushedAuthorizationRequest, primaryKey: 'id', timestampColumn: 'expires', retentionMs: 0, children: [] });
  }
  return steps;
}

export const OAUTH_TOOLKIT_PURGES: readonly JobDefinition[] = [
  {
    name: 'django-oauth-toolkit-cleartokens',
    description: "Preset for django-oauth-toolkit's oauth2_provider tables: what `manage.py cleartokens` deletes, in batches",
    preset: 'django-oauth-toolkit oauth2_provider',
    matches:
      `django-oauth-toolkit 1.1.0 to ${NEWEST_DOT_RELEASE} (cleartokens), version by version (--dot-version): grants from 1.3, ID tokens from 2.3, ` +
      'the grace period and reuse protection from 3.4.0, orphaned refresh tokens from 3.4.1. ' +
      'Steps shown for 3.4.1 with REFRESH_TOKEN_EXPIRE_SECONDS = 86400',
    // Shown by `maint jobs`: a 3.4.1 app with a one-day refresh lifespan.
    steps: dotCleartokensSteps({ dotVersion: NEWEST_DOT_RELEASE, refreshTokenExpireSeconds: 86_400 }),
    stepsFor: dotCleartokensSteps,
    djangoParams: ['refreshTokenExpireSeconds', 'dotVersion', 'refreshTokenGracePeriodSeconds', 'refreshTokenReuseProtection'],
  },
];
