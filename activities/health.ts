import { type Orm, dbFromOrm } from '../src/orm/index.js';
import { latestAftermathByJob, runsForRates, runsOfLastDay } from '../src/db/run-record.js';
import type { HealthStats, HealthThresholds, PurgeHealth } from '../src/health/types.js';
import { purgeRates, RATE_WINDOW_DAYS } from '../src/health/purge-rates.js';
import type { Db } from '../src/db/query.js';
import { DEFAULT_POLICY } from '../src/keys/policy.js';
import type { KeyPolicy } from '../src/keys/types.js';
import { DEFAULT_SCOPES } from '../src/scopes.js';
import { toNumber } from '../src/kernel/counts.js';


/** Per purge job: its latest run's aftermath in short, and its rates over the last RATE_WINDOW_DAYS days. */
async function purgeHealth(db: Db): Promise<PurgeHealth[]> {
  const runs = await runsForRates(db, RATE_WINDOW_DAYS);
  const latest = await latestAftermathByJob(db);
  const jobs = [...new Set([...latest.map((l) => l.job), ...runs.keys()])].sort();
  return jobs.map((job) => {
    const l = latest.find((x) => x.job === job);
    const a = l?.aftermath;
    return {
      job,
      lastRun: l && a
        ? {
            runId: l.runId,
            finishedAt: l.finishedAt,
            walBytes: a.wal?.bytes ?? null,
            tables: (a.tables ?? []).map((t) => ({ table: t.table, deadTuples: t.deadJudged, threshold: t.autovacuum.threshold, verdict: t.verdict })),
            advice: a.advice ?? [],
          }
        : null,
      rates: purgeRates(job, runs.get(job) ?? []),
    };
  });
}

export function createHealthActivities({ orm, keys }: { orm: Orm; keys?: { policy: KeyPolicy } }) {
  const db = dbFromOrm(orm);
  const q = <T = Record<string, unknown>>(sql: string) => db.query<T>(sql);
  return {
    /** Token, key, scope, provider and run statistics, read-only, all relative to the database's clock. */
    async gatherHealthStats(): Promise<{ stats: HealthStats; thresholds: HealthThresholds }> {
      const policy = keys?.policy ?? DEFAULT_POLICY;
      const thresholds = { rotateAfterSeconds: policy.rotateAfterSeconds, maxActiveKeys: policy.maxActiveKeys };
      // Without the native job tables (a database another application owns) there are no tokens of ours to count.
      const [native] = await q<{ t: string | null }>(`SELECT to_regclass('outstanding_token')::text AS t`);
      const [tokens] = !native?.t
        ? await q(`SELECT 0 AS total, 0 AS active, 0 AS expired, 0 AS revoked, 0 AS created_24h, 0 AS revoked_24h, now() AS now`)
        : await q(
        `SELECT count(*) AS total,
                count(*) FILTER (WHERE t.expires_at > now() AND b.id IS NULL) AS active,
                count(*) FILTER (WHERE t.expires_at <= now()) AS expired,
                count(b.id) AS revoked,
                count(*) FILTER (WHERE t.created_at > now() - interval '24 hours') AS created_24h,
                count(*) FILTER (WHERE b.blacklisted_at > now() - interval '24 hours') AS revoked_24h,
                now() AS now
           FROM outstanding_token t LEFT JOIN blacklisted_token b ON b.token_id = t.id`,
      );
      const states = await q<{ state: string; n: number }>(`SELECT state, count(*)::int AS n FROM signing_key GROUP BY state`);
      const count = (s: string) => toNumber(states.find((r) => r.state === s)?.n);
      const [active] = await q<{ kid: string; alg: string; activated_at: string; age: number }>(
        `SELECT kid, alg, activated_at, extract(epoch FROM now() - activated_at)::float8 AS age FROM signing_key WHERE state = 'active'`,
      );
      const [activated] = await q(`SELECT count(*)::int AS n FROM signing_key WHERE activated_at > now() - interval '24 hours'`);
      const runs = await runsOfLastDay(db);
      const scopes = await q<{ name: string }>(`SELECT name FROM scope`);
      const providers = await q<{ name: string; last_error: string | null }>(`SELECT name, last_error FROM oidc_provider ORDER BY name`);
      const stats: HealthStats = {
        generatedAt: new Date(tokens!.now as string).toISOString(),
        tokens: { total: toNumber(tokens!.total), active: toNumber(tokens!.active), expired: toNumber(tokens!.expired), revoked: toNumber(tokens!.revoked) },
        keys: {
          active: count('active'),
          published: count('published'),
          retired: count('retired'),
          inactive: count('inactive'),
          activeKid: active?.kid ?? null,
          activeAlg: active?.alg ?? null,
          activeSince: active ? new Date(active.activated_at).toISOString() : null,
          activeAgeSeconds: active ? Math.round(toNumber(active.age)) : null,
        },
        last24h: {
          tokensCreated: toNumber(tokens!.created_24h),
          tokensRevoked: toNumber(tokens!.revoked_24h),
          keysActivated: toNumber(activated?.n),
          runs: Object.fromEntries(runs.map((r) => [r.status, toNumber(r.n)])),
          failedJobs: runs.find((r) => r.status === 'failed')?.jobs ?? [],
        },
        scopes: { missing: DEFAULT_SCOPES.map((s) => s.name).filter((name) => !scopes.some((r) => r.name === name)) },
        oidc: { providers: providers.length, failing: providers.filter((p) => p.last_error).map((p) => p.name) },
        purges: await purgeHealth(db),
      };
      return { stats, thresholds };
    },
  };
}
