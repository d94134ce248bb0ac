import { table } from '../kernel/text.js';
import type { CleanupStats } from './cleanup-stats.js';
import type { HealthReport, PurgeHealth } from './types.js';
import { compact } from './purge-rates.js';

/** Bytes as a person reads them. */
export function formatBytes(n: number | null): string {
  if (n === null) return '?';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  for (; n >= 1024 && i < units.length - 1; i++) n /= 1024;
  return `${i ? n.toFixed(1) : n} ${units[i]}`;
}

/** The purges: what each job's latest run left, and rows per day eligible against deleted. */
function renderPurges(purges: PurgeHealth[] | undefined): string[] {
  if (!purges?.length) return [];
  const rows = purges.map((p) => [
    p.job,
    p.lastRun?.finishedAt ?? '',
    p.lastRun ? formatBytes(p.lastRun.walBytes) : '',
    p.lastRun?.tables.map((t) => `${t.table} ${t.deadTuples}/${t.threshold} (${t.verdict})`).join(', ') ?? '',
    p.rates ? compact(p.rates.eligiblePerDay) : '',
    p.rates ? compact(p.rates.deletedPerDay) : '',
    p.rates ? (p.rates.fallingBehind ? 'FALLING BEHIND' : 'keeps up') : '',
  ]);
  return [table(['purge', 'last run ended', 'server WAL over it', 'dead tuples / autovacuum threshold', 'eligible/day', 'deleted/day', ''], rows), ''];
}

/** The health report as plain text: `maint report`, and the report email's text part. */
export function renderReport(r: HealthReport): string {
  const s = r.stats;
  const kv = (rows: Array<[string, string | number | null]>) => table(['', ''], rows).split('\n').slice(2).join('\n');
  return [
    `status: ${r.status.toUpperCase()}   (${s.generatedAt})`,
    '',
    'reasons',
    ...r.reasons.map((x) => `  - ${x}`),
    ...(r.recommendations.length ? ['', 'recommendations', ...r.recommendations.map((x) => `  - ${x}`)] : []),
    '',
    table(['tokens', 'total', 'active', 'expired', 'revoked'], [['outstanding', s.tokens.total, s.tokens.active, s.tokens.expired, s.tokens.revoked]]),
    '',
    table(['keys', 'active', 'published', 'retired', 'inactive', 'signing key', 'alg', 'since'], [['signing', s.keys.active, s.keys.published, s.keys.retired, s.keys.inactive, s.keys.activeKid, s.keys.activeAlg, s.keys.activeSince]]),
    '',
    'last 24 hours',
    kv([
      ['tokens created', s.last24h.tokensCreated],
      ['tokens revoked', s.last24h.tokensRevoked],
      ['keys activated', s.last24h.keysActivated],
      ['runs', Object.entries(s.last24h.runs).map(([k, v]) => `${k}=${v}`).join(' ') || '-'],
      ['failed jobs', s.last24h.failedJobs.join(', ') || '-'],
    ]),
    '',
    kv([
      ['missing scopes', s.scopes.missing.join(', ') || '-'],
      ['OIDC providers', `${s.oidc.providers} (failing: ${s.oidc.failing.join(', ') || 'none'})`],
    ]),
    '',
    ...renderPurges(s.purges),
  ].join('\n');
}

export const STATS_HEADERS = ['job', 'runs', 'failures', 'rows', 'dependents', 'median s', 'rows/s', 'last success', 'last failure'];

export function statsRows(stats: CleanupStats): Array<Array<string | number | null>> {
  return stats.jobs.map((j) => [
    j.job,
    j.runs,
    j.failures,
    j.rows,
    j.dependents,
    j.medianDurationMs === null ? null : (j.medianDurationMs / 1000).toFixed(2),
    j.rowsPerSecond,
    j.lastSuccessAt,
    j.lastFailureAt,
  ]);
}

/** The cleanup statistics as a plain-text table (`maint report --days N`, the report email). */
export function renderCleanupStats(stats: CleanupStats): string {
  const head = `cleanup over the last ${stats.days} day(s), since ${stats.since}`;
  return stats.jobs.length ? `${head}\n${table(STATS_HEADERS, statsRows(stats))}\n` : `${head}\nno runs\n`;
}
