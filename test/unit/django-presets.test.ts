import { describe, expect, it } from 'vitest';
import { BUDGET_FLAGS } from '../../src/catalogue/entry.js';
import { Catalogue } from '../../src/catalogue/index.js';
import { givenPurgeParams, parsePurgeParams } from '../../src/purge/params.js';
import { dotCleartokensSteps } from '../../src/purge/presets/oauth-toolkit.js';
import { applyJobParams } from '../../src/purge/rules.js';
import { buildCountSql, buildMatchSql, buildWalkSql } from '../../src/purge/sql.js';

// The Django presets' parameters: each refused naming the parameter (the CLI turns it into the flag) and what is
// allowed; the steps each version of django-oauth-toolkit's clear_expired has (read at its tags, see
// src/purge/presets/oauth-toolkit.ts; the rows they leave are test/dot-versions.test.ts's).

const catalogue = new Catalogue();
const findJob = (name: string) => catalogue.purge(name);
const steps = (job: string, params: Record<string, unknown>) => applyJobParams(findJob(job), parsePurgeParams(params));
const names = (p: Parameters<typeof dotCleartokensSteps>[0]) => dotCleartokensSteps(p).map((s) => s.name);

describe('django-oauth-toolkit versions', () => {
  it('needs the version; takes the releases read and the minors whose releases all clear alike; refuses the rest naming why', () => {
    const job = findJob('django-oauth-toolkit-cleartokens');
    expect(() => applyJobParams(job, parsePurgeParams({}))).toThrow(/dotVersion: .*--dot-version/);
    const cleartokens = (dotVersion: string) => steps('django-oauth-toolkit-cleartokens', { dotVersion });
    for (const v of ['1.1', '1.2.0', '1.7', '1.7.1', '2.2', '2.3', '3.0.1', '3.3', '3.3.0', '3.4.0', '3.4.1']) expect(cleartokens(v).length).toBeGreaterThan(0);
    // The defect this guards: 3.4 and 3.5 once ran the 2.3-3.3 steps. The workflow's own parse checks the shape
    // only (as runs in progress were parsed); the preset refuses before anything runs.
    expect(() => cleartokens('3.4')).toThrow(/dotVersion: 3\.4 is ambiguous: 3\.4\.0 and 3\.4\.1 clear differently/);
    expect(() => cleartokens('3.5')).toThrow(/dotVersion: 3\.5 is newer than 3\.4\.1, the newest django-oauth-toolkit release whose cleartokens this preset reproduces/);
    expect(() => cleartokens('3.4.2')).toThrow(/dotVersion: 3\.4\.2 is newer than 3\.4\.1/);
    expect(() => cleartokens('3.10')).toThrow(/dotVersion: 3\.10 is newer than 3\.4\.1/);
    expect(() => cleartokens('1.7.9')).toThrow(/dotVersion: 1\.7\.9 is not a django-oauth-toolkit release; expected a django-oauth-toolkit release from 1\.1\.0 to 3\.4\.1/);
    expect(() => parsePurgeParams({ dotVersion: '1.0.2' })).toThrow(/dotVersion: "1.0.2" is not supported; the preset reproduces cleartokens of 1\.1 to 3\.4\.1/);
    expect(() => parsePurgeParams({ dotVersion: '4.0' })).toThrow(/dotVersion: "4.0" is not allowed; expected the django-oauth-toolkit version the app runs, from 1\.1 to 3\.4\.1/);
    expect(() => parsePurgeParams({ dotVersion: '2' })).toThrow(/dotVersion: "2" is not allowed; expected the django-oauth-toolkit version the app runs/);
    expect(() => parsePurgeParams({ refreshTokenExpireSeconds: -1 })).toThrow(/refreshTokenExpireSeconds: -1 is not allowed/);
    expect(givenPurgeParams({ refreshTokenExpireSeconds: '86400', dotVersion: ' 1.7 ' })).toEqual({ refreshTokenExpireSeconds: 86400, dotVersion: '1.7' });
    expect(() => applyJobParams(findJob('purge-expired-tokens'), parsePurgeParams({ dotVersion: '1.7' }))).toThrow(/dotVersion: job purge-expired-tokens takes no dotVersion; jobs that do: django-oauth-toolkit-cleartokens/);
    expect(() => applyJobParams(job, parsePurgeParams({ dotVersion: '1.7', days: 3 }))).toThrow(/days: job django-oauth-toolkit-cleartokens takes no --days/);
  });

  it('the grace period and reuse protection: only for 3.4.0 and later, refused naming the flag and the version elsewhere', () => {
    expect(() => parsePurgeParams({ refreshTokenGracePeriodSeconds: -5 })).toThrow(/refreshTokenGracePeriodSeconds: -5 is not allowed; expected an integer from 0 to/);
    expect(() => parsePurgeParams({ refreshTokenReuseProtection: 'yes' })).toThrow(/refreshTokenReuseProtection: "yes" is not allowed; expected true or false/);
    for (const v of ['1.7', '3.3', '3.3.0']) {
      expect(() => steps('django-oauth-toolkit-cleartokens', { dotVersion: v, refreshTokenGracePeriodSeconds: 60 })).toThrow(
        new RegExp(`refreshTokenGracePeriodSeconds: django-oauth-toolkit ${v.replace(/\./g, '\\.')}'s clear_expired does not read REFRESH_TOKEN_GRACE_PERIOD_SECONDS \\(3\\.4\\.0 and later do\\): leave --refresh-token-grace-period-seconds out`),
      );
      expect(() => steps('django-oauth-toolkit-cleartokens', { dotVersion: v, refreshTokenReuseProtection: false })).toThrow(/refreshTokenReuseProtection: .* does not read REFRESH_TOKEN_REUSE_PROTECTION .*--refresh-token-reuse-protection/);
    }
    expect(() => steps('django-simplejwt-flush-expired', { refreshTokenReuseProtection: true })).toThrow(/refreshTokenReuseProtection: job django-simplejwt-flush-expired takes no refreshTokenReuseProtection; jobs that do: django-oauth-toolkit-cleartokens/);
    // Reuse protection without a lifespan: `refresh_revoked_at = refresh_expire_at` is None, no refresh token goes.
    expect(steps('django-oauth-toolkit-cleartokens', { dotVersion: '3.4.0', refreshTokenGracePeriodSeconds: 60, refreshTokenReuseProtection: true }).map((s) => s.table)).toEqual([
      'oauth2_provider_accesstoken',
      'oauth2_provider_idtoken',
      'oauth2_provider_grant',
    ]);
  });

  it('steps by generation, as clear_expired runs them at each tag', () => {
    // 1.1.0-1.2.0: no grant is deleted (1.3.0 added it); no refresh step without a lifespan.
    expect(names({ dotVersion: '1.2' })).toEqual(['oauth2_provider_accesstoken (expired, no refresh token)']);
    expect(names({ dotVersion: '1.7' })).toEqual(['oauth2_provider_accesstoken (expired, no refresh token)', 'oauth2_provider_grant (expired)']);
    expect(names({ dotVersion: '1.7', refreshTokenExpireSeconds: 0 })).toHaveLength(2);
    expect(names({ dotVersion: '2.2', refreshTokenExpireSeconds: 60 })).toHaveLength(4);
    const gen23 = [
      'oauth2_provider_refreshtoken (revoked before now - REFRESH_TOKEN_EXPIRE_SECONDS)',
      'oauth2_provider_refreshtoken (access token expired before now - REFRESH_TOKEN_EXPIRE_SECONDS)',
      'oauth2_provider_accesstoken (expired, no refresh token)',
      'oauth2_provider_idtoken (expired, no access token)',
      'oauth2_provider_grant (expired)',
    ];
    expect(names({ dotVersion: '2.3', refreshTokenExpireSeconds: 60 })).toEqual(gen23);
    expect(names({ dotVersion: '3.3.0', refreshTokenExpireSeconds: 60 })).toEqual(gen23);
    // The 2.3-3.3 steps are the ones runs recorded before versions were read one by one: same JSON, same fingerprint.
    expect(dotCleartokensSteps({ dotVersion: '3.3', refreshTokenExpireSeconds: 60 })).toEqual(dotCleartokensSteps({ dotVersion: '3.0', refreshTokenExpireSeconds: 60 }));
    // 3.4.0: revoked tokens go at the grace cutoff (now by default) whatever the lifespan; the idle step is 3.3's.
    expect(names({ dotVersion: '3.4.0' })).toEqual([
      'oauth2_provider_refreshtoken (revoked at or before now - REFRESH_TOKEN_GRACE_PERIOD_SECONDS)',
      'oauth2_provider_accesstoken (expired, no refresh token)',
      'oauth2_provider_idtoken (expired, no access token)',
      'oauth2_provider_grant (expired)',
    ]);
    const s340 = dotCleartokensSteps({ dotVersion: '3.4.0', refreshTokenExpireSeconds: 60, refreshTokenGracePeriodSeconds: 30 });
    expect(s340[0]).toMatchObject({ timestampColumn: 'revoked', cutoffInclusive: true, retentionMs: 30_000 });
    expect(s340[1]).toEqual(dotCleartokensSteps({ dotVersion: '3.3', refreshTokenExpireSeconds: 60 })[1]);
    // Reuse protection: revoked tokens kept until the lifespan; without a lifespan, none deleted.
    expect(dotCleartokensSteps({ dotVersion: '3.4.1', refreshTokenExpireSeconds: 60, refreshTokenGracePeriodSeconds: 30, refreshTokenReuseProtection: true })[0]).toMatchObject({ retentionMs: 60_000, cutoffInclusive: true });
    expect(names({ dotVersion: '3.4.1', refreshTokenReuseProtection: true })).toEqual([
      'oauth2_provider_refreshtoken (unrevoked, no access token)',
      'oauth2_provider_accesstoken (expired, no refresh token)',
      'oauth2_provider_idtoken (expired, no access token)',
      'oauth2_provider_grant (expired)',
    ]);
    // 3.4.1: orphans always, the idle step on unrevoked tokens, at the cutoff too. No pushed authorization requests (unreleased).
    const s341 = dotCleartokensSteps({ dotVersion: '3.4.1', refreshTokenExpireSeconds: 60 });
    expect(s341.map((s) => s.name)).toEqual([
      'oauth2_provider_refreshtoken (revoked at or before now - REFRESH_TOKEN_GRACE_PERIOD_SECONDS)',
      'oauth2_provider_refreshtoken (unrevoked, no access token)',
      'oauth2_provider_refreshtoken (unrevoked, access token expired at or before now - REFRESH_TOKEN_EXPIRE_SECONDS)',
      'oauth2_provider_accesstoken (expired, no refresh token)',
      'oauth2_provider_idtoken (expired, no access token)',
      'oauth2_provider_grant (expired)',
    ]);
    expect(s341[2]!.where).toEqual([
      { column: 'revoked', op: 'is_null' },
      { op: 'referenced_row_older', column: 'access_token_id', table: 'oauth2_provider_accesstoken', references: 'id', timestampColumn: 'expires', retentionMs: 60_000, inclusive: true },
    ]);
    expect(s341.some((s) => s.table === 'oauth2_provider_pushedauthorizationrequest')).toBe(false);
  });
});

describe('simplejwt with USE_TZ = False: --django-time-zone', () => {
  it('takes an IANA zone name and refuses anything else naming the parameter', () => {
    const [step] = steps('django-simplejwt-flush-expired', { djangoTimeZone: 'Europe/Berlin' });
    expect(step).toMatchObject({ naiveUtcIn: 'Europe/Berlin', cutoffInclusive: true });
    expect(steps('django-simplejwt-flush-expired', {})[0]!.naiveUtcIn).toBeUndefined();
    expect(() => parsePurgeParams({ djangoTimeZone: '+02:00' })).toThrow(/djangoTimeZone: "\+02:00" is not allowed; expected an IANA time zone name, Django's TIME_ZONE/);
    expect(() => parsePurgeParams({ djangoTimeZone: "Europe/Berlin'; DROP TABLE x; --" })).toThrow(/djangoTimeZone: .* is not allowed/);
    expect(() => steps('django-simplejwt-flush-expired', { djangoTimeZone: 'Europe/Atlantis' })).toThrow(/djangoTimeZone: "Europe\/Atlantis" is not a time zone; expected an IANA time zone name/);
    expect(() => steps('django-oauth-toolkit-cleartokens', { dotVersion: '1.7', djangoTimeZone: 'Europe/Berlin' })).toThrow(/djangoTimeZone: job django-oauth-toolkit-cleartokens takes no djangoTimeZone; jobs that do: django-simplejwt-flush-expired/);
  });

  it("compares with now's UTC wall clock read in the zone, the zone bound, never inlined", () => {
    const [step] = steps('django-simplejwt-flush-expired', { djangoTimeZone: 'Europe/Berlin' });
    const count = buildCountSql(step!);
    expect(count.sql).toContain(`"expires_at" <= ((?::timestamptz AT TIME ZONE 'UTC') AT TIME ZONE ?::text)`);
    expect(count.bind({ cutoff: 'C' })).toEqual(['C', 'Europe/Berlin']);
    expect(buildMatchSql(step!).bind('C')).toEqual(['C', 'Europe/Berlin']);
    const walk = buildWalkSql(step!, { strategy: 'key-chunks', from: null, to: null, after: null });
    expect(walk.sql).not.toContain('Berlin');
    expect(walk.bind({ cutoff: 'C', limit: 5, from: null, to: null, after: null }).filter((v) => v === 'Europe/Berlin')).toHaveLength(2);
  });
});

describe('django-clearsessions', () => {
  it('deletes django_session rows with expire_date < now by session_key, and takes no Django flag', () => {
    const job = findJob('django-clearsessions');
    expect(job.steps).toEqual([{ table: 'django_session', primaryKey: 'session_key', timestampColumn: 'expire_date', retentionMs: 0, children: [] }]);
    expect(catalogue.entries.find((e) => e.name === 'django-clearsessions')!.flags).toEqual(['dryRun', 'batchSize', 'asOf', 'parallel', 'vacuum', 'maxRows', 'maxDuration', 'maxFraction', ...BUDGET_FLAGS]);
    expect(() => steps('django-clearsessions', { djangoTimeZone: 'Europe/Berlin' })).toThrow(/djangoTimeZone: job django-clearsessions takes no djangoTimeZone/);
  });
});
