import type { HealthReport, HealthStats, HealthStatus, HealthThresholds } from './types.js';
import { compact, fallingBehindAdvice } from './purge-rates.js';

const RANK: Record<HealthStatus, number> = { ok: 0, warning: 1, critical: 2 };

/**
 * The overall status of the auth database from its statistics, with a reason for every finding and what to run
 * about it. Pure (the report workflow calls it on the statistics an activity gathered).
 */
export function assessHealth(stats: HealthStats, t: HealthThresholds): HealthReport {
  let status: HealthStatus = 'ok';
  const reasons: string[] = [];
  const recommendations: string[] = [];
  const find = (level: HealthStatus, reason: string, recommendation?: string) => {
    if (RANK[level] > RANK[status]) status = level;
    reasons.push(`${level}: ${reason}`);
    if (recommendation && !recommendations.includes(recommendation)) recommendations.push(recommendation);
  };

  const k = stats.keys;
  if (k.active === 0) find('critical', 'there is no signing key: no token can be issued', 'create one: maint keys rotate --wait');
  else if (k.activeAgeSeconds !== null && k.activeAgeSeconds > t.rotateAfterSeconds) {
    find('warning', `the signing key ${k.activeKid} is ${Math.floor(k.activeAgeSeconds / 86_400)} days old (rotate after ${Math.floor(t.rotateAfterSeconds / 86_400)})`, 'rotate it: maint keys rotate');
  }
  const inJwks = k.active + k.published + k.retired;
  if (inJwks > t.maxActiveKeys) {
    find('warning', `${inJwks} keys are in the JWKS (at most ${t.maxActiveKeys})`, 'withdraw keys whose tokens expired: maint run keypair-cleanup');
  }
  if (stats.scopes.missing.length) find('warning', `default scopes missing: ${stats.scopes.missing.join(', ')}`, 'create them: maint run scopes');
  if (stats.oidc.failing.length) {
    find('warning', `OIDC providers whose last JWKS refresh failed: ${stats.oidc.failing.join(', ')}`, 'check the providers and retry: maint run refresh-jwks');
  }
  const failed = stats.last24h.runs.failed ?? 0;
  if (failed) find('warning', `${failed} maintenance runs failed in the last 24 hours (${stats.last24h.failedJobs.join(', ')})`, 'see what failed: maint runs');

  const tk = stats.tokens;
  if (tk.total > 0 && tk.expired / tk.total >= 0.5) {
    find('warning', `${tk.expired} of ${tk.total} tokens are expired`, 'purge them: maint run purge-expired-tokens');
  } else if (tk.expired > 0) {
    recommendations.push(`${tk.expired} expired tokens can be purged: maint run purge-expired-tokens`);
  }
  // A purge that deletes less than becomes eligible: said while its backlog is still small.
  for (const p of stats.purges ?? []) {
    const r = p.rates;
    if (r?.fallingBehind) find('warning', `${p.job} falls behind: ${compact(r.eligiblePerDay)} rows/day become eligible, it deletes ${compact(r.deletedPerDay)}/day`, fallingBehindAdvice(r));
  }
  for (const p of stats.purges ?? []) {
    for (const a of p.lastRun?.advice ?? []) {
      const line = `${p.job}: ${a}`;
      if (!recommendations.includes(line)) recommendations.push(line);
    }
  }
  if (status === 'ok') reasons.push('ok: signing key current, scopes present, no failed runs');
  return { status, reasons, recommendations, stats };
}
