import { describe, expect, it } from 'vitest';
import { buildCountSql, buildMatchSql, buildWalkSql } from '../../src/purge/sql.js';
import { buildLegacyBatchSql } from '../../src/purge/legacy-v1/sql.js';
import { customJobs } from '../../src/purge/custom-rules.js';
import { dotCleartokensSteps, dotClearsIdTokens } from '../../src/purge/presets/oauth-toolkit.js';
import { Catalogue } from '../../src/catalogue/index.js';
import { applyJobParams } from '../../src/purge/rules.js';

const findJob = (name: string) => new Catalogue().purge(name);
import { givenPurgeParams, parsePurgeParams } from '../../src/purge/params.js';
import type { RetentionRule } from '../../src/purge/types.js';

const access: RetentionRule = { table: 'at', primaryKey: 'id', timestampColumn: 'expires', retentionMs: 0, children: [] };

describe('conditions on other tables and inclusive cutoffs', () => {
  it('referenced / not_referenced are EXISTS probes correlated with the victim row', () => {
    const built = buildLegacyBatchSql({ ...access, where: [{ op: 'not_referenced', table: 'rt', foreignKey: 'access_token_id' }] });
    expect(built.sql).toContain('WHERE "expires" < ? AND NOT EXISTS (SELECT 1 FROM "rt" ref WHERE ref."access_token_id" = "at"."id") ORDER BY');
    expect(built.bind({ cutoff: 'C', limit: 3 })).toEqual(['C', 3]);
    const other = buildCountSql({ ...access, where: [{ op: 'referenced', table: 'rt', foreignKey: 'tok', references: 'code' }] });
    expect(other.sql).toContain('AND EXISTS (SELECT 1 FROM "rt" ref WHERE ref."tok" = "at"."code")');
  });

  it("referenced_row_older binds its own cutoff, derived from the step's cutoff and both retentions", () => {
    const rule: RetentionRule = {
      table: 'rt',
      primaryKey: 'id',
      timestampColumn: 'created',
      retentionMs: 0,
      where: [{ op: 'referenced_row_older', column: 'access_token_id', table: 'at', timestampColumn: 'expires', retentionMs: 86_400_000 }],
      children: [],
    };
    const built = buildLegacyBatchSql(rule);
    expect(built.sql).toContain('WHERE "created" < ? AND EXISTS (SELECT 1 FROM "at" ref WHERE ref."id" = "rt"."access_token_id" AND ref."expires" < ?) ORDER BY');
    expect(built.bind({ cutoff: '2026-06-02T00:00:00.000Z', limit: 9 })).toEqual(['2026-06-02T00:00:00.000Z', '2026-06-01T00:00:00.000Z', 9]);
    const count = buildCountSql({ ...rule, retentionMs: 3_600_000 });
    // The step's cutoff is an hour before the run time; the condition's a day before it.
    expect(count.bind({ cutoff: '2026-06-01T23:00:00.000Z' })).toEqual(['2026-06-01T23:00:00.000Z', '2026-06-01T00:00:00.000Z']);
    const inclusive = buildCountSql({ ...rule, where: [{ ...(rule.where![0] as object), inclusive: true } as never] });
    expect(inclusive.sql).toContain('ref."expires" <= ?');
  });

  it('key-chunk and timestamp walks test the same predicates, correlated with the row, and bind their cutoffs', () => {
    const rule: RetentionRule = {
      ...access,
      cutoffInclusive: true,
      where: [
        { op: 'not_referenced', table: 'rt', foreignKey: 'access_token_id' },
        { op: 'referenced_row_older', column: 'app_id', table: 'app', timestampColumn: 'closed', retentionMs: 60_000 },
      ],
    };
    const chunks = buildWalkSql(rule, { strategy: 'key-chunks', from: null, to: null, after: null });
    expect(chunks.sql).toContain('FROM chunk AS "at" WHERE "expires" <= ? AND NOT EXISTS (SELECT 1 FROM "rt" ref WHERE ref."access_token_id" = "at"."id") AND EXISTS (SELECT 1 FROM "app" ref WHERE ref."id" = "at"."app_id" AND ref."closed" < ?)');
    const args = chunks.bind({ cutoff: '2026-06-01T12:00:00.000Z', limit: 10, from: null, to: null, after: null });
    expect(args).toContain('2026-06-01T11:59:00.000Z');
    const ts = buildWalkSql(rule, { strategy: 'timestamp-index', from: null, to: null, after: null });
    expect(ts.sql).toContain('WHERE "expires" <= ? AND NOT EXISTS');
    expect(buildMatchSql(rule).bind('2026-06-01T12:00:00.000Z')).toEqual(['2026-06-01T12:00:00.000Z', '2026-06-01T11:59:00.000Z']);
  });

  it('cutoffInclusive turns the timestamp test into <= in the batch and the count alike', () => {
    expect(buildLegacyBatchSql({ ...access, cutoffInclusive: true }).sql).toContain('WHERE "expires" <= ? ORDER BY');
    expect(buildCountSql({ ...access, cutoffInclusive: true }).sql).toContain('WHERE "expires" <= ?)');
    expect(buildLegacyBatchSql(access).sql).toContain('WHERE "expires" < ? ORDER BY');
  });

  it('custom rules take the new conditions, with retention in days, and reject malformed ones by field', () => {
    const [job] = customJobs(
      {
        rules: {
          'orphan-sessions': {
            table: 'session',
            timestampColumn: 'last_seen',
            cutoffInclusive: true,
            where: [
              { op: 'not_referenced', table: 'device', foreignKey: 'session_id' },
              { op: 'referenced_row_older', column: 'account_id', table: 'account', timestampColumn: 'closed_at', retentionDays: 30 },
            ],
          },
        },
      },
      [],
    );
    expect(job!.steps[0]).toMatchObject({
      cutoffInclusive: true,
      where: [
        { op: 'not_referenced', table: 'device', foreignKey: 'session_id' },
        { op: 'referenced_row_older', column: 'account_id', table: 'account', timestampColumn: 'closed_at', retentionMs: 30 * 86_400_000 },
      ],
    });
    expect(() => customJobs({ rules: { x: { table: 's', timestampColumn: 't', where: [{ op: 'not_referenced', table: 'd' }] } } }, [])).toThrow(/rules\.x\.where\[0\]/);
    expect(() =>
      customJobs({ rules: { x: { table: 's', timestampColumn: 't', where: [{ op: 'referenced_row_older', column: 'a', table: 'b', timestampColumn: 'c', retentionDays: -1 }] } } }, []),
    ).toThrow(/rules\.x\.where\[0\]/);
  });
});

describe('Django preset parameters', () => {
  it('the cleartokens preset needs the DOT version and takes REFRESH_TOKEN_EXPIRE_SECONDS in seconds', () => {
    const job = findJob('django-oauth-toolkit-cleartokens');
    expect(() => applyJobParams(job, parsePurgeParams({}))).toThrow(/dotVersion: .*--dot-version/);
    expect(() => parsePurgeParams({ dotVersion: '4.0' })).toThrow(/dotVersion: "4.0" is not allowed/);
    expect(() => parsePurgeParams({ dotVersion: '2' })).toThrow(/dotVersion: "2" is not allowed; expected .*major.minor/);
    expect(() => parsePurgeParams({ dotVersion: '1.0.2' })).toThrow(/dotVersion: "1.0.2" is not supported; the preset reproduces cleartokens of 1.1 to 3.x/);
    expect(() => parsePurgeParams({ refreshTokenExpireSeconds: -1 })).toThrow(/refreshTokenExpireSeconds: -1 is not allowed/);
    expect(givenPurgeParams({ refreshTokenExpireSeconds: '86400', dotVersion: ' 1.7 ' })).toEqual({ refreshTokenExpireSeconds: 86400, dotVersion: '1.7' });
    expect(() => applyJobParams(findJob('purge-expired-tokens'), parsePurgeParams({ dotVersion: '1.7' }))).toThrow(/dotVersion: job purge-expired-tokens takes no dotVersion; jobs that do: django-oauth-toolkit-cleartokens/);
    expect(() => applyJobParams(job, parsePurgeParams({ dotVersion: '1.7', days: 3 }))).toThrow(/days: job django-oauth-toolkit-cleartokens takes no --days/);
  });

  it('steps by version and lifespan: no refresh step without a lifespan, ID tokens from 2.3 on', () => {
    const names = (p: Parameters<typeof dotCleartokensSteps>[0]) => dotCleartokensSteps(p).map((s) => s.name);
    expect(names({ dotVersion: '1.7' })).toEqual(['oauth2_provider_accesstoken (expired, no refresh token)', 'oauth2_provider_grant (expired)']);
    expect(names({ dotVersion: '1.7', refreshTokenExpireSeconds: 0 })).toHaveLength(2);
    expect(names({ dotVersion: '2.2', refreshTokenExpireSeconds: 60 })).toHaveLength(4);
    expect(names({ dotVersion: '2.3', refreshTokenExpireSeconds: 60 })).toEqual([
      'oauth2_provider_refreshtoken (revoked before now - REFRESH_TOKEN_EXPIRE_SECONDS)',
      'oauth2_provider_refreshtoken (access token expired before now - REFRESH_TOKEN_EXPIRE_SECONDS)',
      'oauth2_provider_accesstoken (expired, no refresh token)',
      'oauth2_provider_idtoken (expired, no access token)',
      'oauth2_provider_grant (expired)',
    ]);
    expect([dotClearsIdTokens('1'), dotClearsIdTokens('2.0'), dotClearsIdTokens('2.3.1'), dotClearsIdTokens('3')]).toEqual([false, false, true, true]);
    expect(findJob('django-simplejwt-flush-expired').steps[0]!.cutoffInclusive).toBe(true);
  });
});
