import { describe, expect, it } from 'vitest';
import { adviseAftermath, autovacuumOf, FAR_OVER, tableOfLabel, verdictOf, type AutovacuumSettings, type TableAftermath } from '../../src/purge/aftermath.js';
import { compact, fallingBehindAdvice, purgeRates } from '../../src/health/purge-rates.js';
import { assessHealth } from '../../src/health/assess.js';
import type { HealthStats } from '../../src/health/types.js';

const server: AutovacuumSettings = { autovacuum: true, trackCounts: true, threshold: 50, scaleFactor: 0.2, naptimeSeconds: 60 };

function table(over: Partial<TableAftermath> & { dead: number; reltuples?: number; reloptions?: string[] }): TableAftermath {
  const autovacuum = autovacuumOf(server, over.reloptions ?? null, over.reltuples ?? 10_000);
  return {
    table: 't', changed: over.dead, liveTuples: 0, deadTuples: over.dead, deadJudged: over.dead,
    lastAutovacuum: null, lastAutoanalyze: null, lastVacuum: null, lastAnalyze: null,
    autovacuum, verdict: verdictOf(over.dead, autovacuum), ...over,
  };
}

describe('autovacuum of a table', () => {
  it('is the server threshold plus scale factor times reltuples, as PostgreSQL computes it', () => {
    expect(autovacuumOf(server, null, 10_000)).toMatchObject({ enabled: true, threshold: 2_050, fromTable: false });
    // Never analysed (reltuples -1): counted as empty.
    expect(autovacuumOf(server, null, -1)).toMatchObject({ threshold: 50, reltuples: 0 });
  });

  it("takes the table's reloptions over the server's, and PostgreSQL 18's cap", () => {
    expect(autovacuumOf(server, ['autovacuum_vacuum_threshold=1000', 'autovacuum_vacuum_scale_factor=0.01'], 100_000)).toMatchObject({ threshold: 2_000, fromTable: true });
    expect(autovacuumOf({ ...server, maxThreshold: 100_000_000 }, null, 1e9).threshold).toBe(100_000_000);
    expect(autovacuumOf({ ...server, maxThreshold: -1 }, null, 1e9).threshold).toBe(200_000_050);
    expect(autovacuumOf(server, ['autovacuum_enabled=false'], 10).enabled).toBe(false);
    expect(autovacuumOf({ ...server, autovacuum: false }, null, 10).enabled).toBe(false);
    expect(autovacuumOf({ ...server, trackCounts: false }, null, 10).enabled).toBe(false);
  });

  it('judges dead tuples against the threshold', () => {
    const av = autovacuumOf(server, null, 10_000);
    expect(verdictOf(2_050, av)).toBe('below-threshold');
    expect(verdictOf(2_051, av)).toBe('due');
    expect(verdictOf(FAR_OVER * 2_050, av)).toBe('due');
    expect(verdictOf(FAR_OVER * 2_050 + 1, av)).toBe('far-over');
    expect(verdictOf(1, autovacuumOf(server, ['autovacuum_enabled=off'], 10))).toBe('disabled');
  });
});

describe('advice after a purge', () => {
  const steps = [{ table: 'tok', timestampColumn: 'expires_at', strategy: 'key-chunks' as const }];

  it('names the missing index only where the plan walked the key for want of one', () => {
    const none = adviseAftermath({ steps, indexed: new Set(), tables: [] });
    expect(none).toEqual([expect.stringMatching(/^tok: no index leads with expires_at.*CREATE INDEX CONCURRENTLY ON tok \(expires_at\)/)]);
    expect(adviseAftermath({ steps, indexed: new Set(['tok.expires_at']), tables: [] })).toEqual([]);
    expect(adviseAftermath({ steps: [{ ...steps[0]!, strategy: 'timestamp-index' }], indexed: new Set(), tables: [] })).toEqual([]);
  });

  it('suggests autovacuum settings for a table left far over its threshold, and nothing for one autovacuum handles', () => {
    const far = adviseAftermath({ steps: [], indexed: new Set(), tables: [table({ table: 'tok', dead: 9_000, reltuples: 10_000 })] });
    expect(far).toEqual([expect.stringMatching(/^tok: the run left 9000 dead tuples, more than 4x autovacuum's threshold of 2050.*ALTER TABLE tok SET \(autovacuum_vacuum_scale_factor = 0\.01/)]);
    expect(adviseAftermath({ steps: [], indexed: new Set(), tables: [table({ dead: 3_000 })] })).toEqual([]);
    // Far over, but not from this run: its own churn is what the advice is about.
    expect(adviseAftermath({ steps: [], indexed: new Set(), tables: [table({ dead: 9_000, changed: 0 })] })).toEqual([]);
    const off = adviseAftermath({ steps: [], indexed: new Set(), tables: [table({ table: 'tok', dead: 10, reloptions: ['autovacuum_enabled=false'] })] });
    expect(off).toEqual([expect.stringMatching(/^tok: autovacuum is off for it and 10 dead tuples stay until a VACUUM/)]);
  });

  it('says when an old transaction keeps VACUUM from removing what the run deleted', () => {
    const advice = adviseAftermath({ steps: [], indexed: new Set(), tables: [], holdsBack: { pid: 42, since: '2026-12-01T00:00:00.000Z', application: 'psql' } });
    expect(advice).toEqual([expect.stringMatching(/transaction open since 2026-12-01T00:00:00.000Z \(pid 42, psql\)/)]);
  });

  it('reads the table of a dependent count label', () => {
    expect(tableOfLabel('blacklisted_token')).toBe('blacklisted_token');
    expect(tableOfLabel('oauth2_provider_accesstoken.id_token_id (set null)')).toBe('oauth2_provider_accesstoken');
  });
});

describe('falling behind', () => {
  const day = (d: number) => new Date(Date.UTC(2026, 11, 1 + d)).toISOString();

  it('compares what becomes eligible with what the runs delete, from their counts and what they left', () => {
    // Runs that finish: whatever arrives, eligible equals deleted.
    const keeping = purgeRates('j', [{ cutoff: day(0), changed: 100, left: 0 }, { cutoff: day(1), changed: 500, left: 0 }, { cutoff: day(2), changed: 900, left: 0 }]);
    expect(keeping).toMatchObject({ eligiblePerDay: 700, deletedPerDay: 700, fallingBehind: false, runs: 3 });
    // Runs that stop short: what they leave grows.
    const behind = purgeRates('j', [{ cutoff: day(2), changed: 40_000, left: 15_000 }, { cutoff: day(0), changed: 40_000, left: 0 }, { cutoff: day(1), changed: 40_000, left: 7_500 }]);
    expect(behind).toMatchObject({ eligiblePerDay: 47_500, deletedPerDay: 40_000, leftBefore: 0, leftAfter: 15_000, fallingBehind: true });
    expect(fallingBehindAdvice(behind!)).toMatch(/^j deletes 40k\/day but 48k\/day become eligible \(3 runs; what they left grew from 0 to 15000 rows\): run it more often/);
    // A backlog that shrinks, a few rows left now and then, one run or a short span: not falling behind, or no rate.
    expect(purgeRates('j', [{ cutoff: day(0), changed: 10, left: 500 }, { cutoff: day(1), changed: 900, left: 0 }])).toMatchObject({ eligiblePerDay: 400, fallingBehind: false });
    expect(purgeRates('j', [{ cutoff: day(0), changed: 10, left: 0 }, { cutoff: day(1), changed: 10, left: 5 }])!.fallingBehind).toBe(false);
    expect(purgeRates('j', [{ cutoff: day(0), changed: 10, left: 0 }])).toBeNull();
    expect(purgeRates('j', [{ cutoff: day(0), changed: 10, left: 0 }, { cutoff: '2026-12-01T00:10:00.000Z', changed: 10, left: 50 }])).toBeNull();
  });

  it('counts the way a person reads them', () => {
    expect([compact(940), compact(1_234), compact(55_000), compact(3_210_000)]).toEqual(['940', '1.2k', '55k', '3.2M']);
  });

  it("is a warning in the health report with the recommendation, and the latest run's advice is recommended", () => {
    const stats: HealthStats = {
      generatedAt: day(3),
      tokens: { total: 10, active: 10, expired: 0, revoked: 0 },
      keys: { active: 1, published: 0, retired: 0, inactive: 0, activeKid: 'k', activeAlg: 'RS256', activeSince: day(0), activeAgeSeconds: 10 },
      last24h: { tokensCreated: 0, tokensRevoked: 0, keysActivated: 0, runs: {}, failedJobs: [] },
      scopes: { missing: [] },
      oidc: { providers: 0, failing: [] },
      purges: [
        {
          job: 'purge-expired-tokens',
          lastRun: { runId: 'r', finishedAt: day(2), walBytes: 1, tables: [], advice: ['tok: no index leads with expires_at'] },
          rates: purgeRates('purge-expired-tokens', [{ cutoff: day(0), changed: 40_000, left: 0 }, { cutoff: day(1), changed: 40_000, left: 15_000 }]),
        },
        { job: 'purge-other', lastRun: null, rates: purgeRates('purge-other', [{ cutoff: day(0), changed: 1, left: 0 }, { cutoff: day(1), changed: 1, left: 0 }]) },
      ],
    };
    const r = assessHealth(stats, { rotateAfterSeconds: 100, maxActiveKeys: 3 });
    expect(r.status).toBe('warning');
    expect(r.reasons).toEqual(['warning: purge-expired-tokens falls behind: 55k rows/day become eligible, it deletes 40k/day']);
    expect(r.recommendations).toEqual([expect.stringMatching(/^purge-expired-tokens deletes 40k\/day but 55k\/day become eligible/), 'purge-expired-tokens: tok: no index leads with expires_at']);
    delete stats.purges;
    expect(assessHealth(stats, { rotateAfterSeconds: 100, maxActiveKeys: 3 }).status).toBe('ok');
  });
});
