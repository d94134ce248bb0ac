import type { HealthReport } from '../health/types.js';
import type { PurgeResult } from '../purge/types.js';
import type { KeyRow, RotationResult, SweepResult } from '../keys/types.js';
import type { RefreshResult } from '../oidc/types.js';
import type { ScopesResult } from '../scopes.js';
import { formatCounts, table } from '../kernel/text.js';

/** Plain-text renderings of job results; `--json` prints the results themselves. */

export function renderSweep(r: SweepResult): string {
  const rows = [
    ...r.withdrawn.map((kid) => [kid, r.dryRun ? 'would withdraw from the JWKS' : 'withdrawn from the JWKS', '']),
    ...r.deleted.map((kid) => [kid, r.dryRun ? 'would delete' : 'deleted (private key wiped)', '']),
    ...r.kept.map((k) => [k.kid, `kept (${k.state})`, k.reason]),
  ];
  const head = r.dryRun ? 'dry run: nothing changed\n' : '';
  return head + (rows.length ? table(['kid', 'action', 'reason'], rows) : 'no retired or inactive keys') + '\n';
}

export function renderScopes(r: ScopesResult): string {
  const rows = [...r.created.map((s) => [s, r.dryRun ? 'would create' : 'created']), ...r.existing.map((s) => [s, 'exists'])];
  return table(['scope', 'status'], rows) + '\n';
}

export function renderRefresh(r: RefreshResult): string {
  if (!r.providers.length) return 'no OIDC providers configured (OIDC_PROVIDERS)\n';
  const rows = r.providers.map((p) => [p.name, p.status, p.keys, p.status === 'failed' ? (p.lastGoodKept ? 'kept' : 'none') : '', p.error ?? '']);
  const tail = r.failed.length ? `\nfailed: ${r.failed.join(', ')}\n` : '';
  return table(['provider', 'status', 'keys', 'last good copy', 'error'], rows) + '\n' + tail;
}

/** A refresh completed, but some provider failed: the command fails for cron. */
export function refreshFailed(r: RefreshResult): boolean {
  return r.failed.length > 0;
}

export function renderPurgeResult(r: PurgeResult): string {
  return (
    table(
      ['field', 'value'],
      [
        ['job', r.job],
        ['status', r.status + (r.dryRun ? ' (dry run: nothing deleted)' : '')],
        ['cutoff', r.cutoff],
        ['matched', r.matched],
        [r.dryRun ? 'would delete' : 'deleted', r.dryRun ? r.matched : r.deleted],
        [r.dryRun ? 'would delete dependents' : 'dependents deleted', formatCounts(r.children)],
        ...(r.updated ? [['updated', r.updated] as [string, number]] : []),
        ...(r.steps ? [['per step', formatCounts(r.steps)] as [string, string]] : []),
        ['batches', r.batches],
        ['duration', `${(r.durationMs / 1000).toFixed(2)} s`],
        ['rows/s', r.rowsPerSecond],
        ...(r.skippedLocked ? [['left (locked on both passes)', r.skippedLocked] as [string, number]] : []),
      ],
    ) + '\n' + renderPlans(r)
  );
}

/** How each step walks its table; a dry run adds what PostgreSQL plans for one batch. */
function renderPlans(r: PurgeResult): string {
  if (!r.plans?.length) return '';
  const rows = r.plans.map((p) => [
    p.step,
    p.strategy,
    p.index,
    `${p.key} (${p.keyType})`,
    `${p.chunk}${p.adaptive ? ' (adapts)' : ''}`,
    p.lanes.length,
  ]);
  const explains = r.plans.filter((p) => p.explain).map((p) => `\nEXPLAIN of one batch of ${p.step}:\n${p.explain}\n`);
  return '\n' + table(['step', 'walk', 'index', 'key', 'first batch', 'lanes'], rows) + '\n' + explains.join('');
}

export function renderRotation(r: RotationResult): string {
  return (
    table(
      ['field', 'value'],
      [
        ['status', r.status],
        ['reason', r.reason],
        ['new signing key', r.kid ? `${r.kid} (${r.alg})` : ''],
        ['previous key', r.previousKid],
        ['published', r.publishedAt],
        ['activated', r.activatedAt],
        ['previous key verifies until', r.tokensExpireBy],
        ['retirement workflow', r.retirementWorkflowId],
      ],
    ) + '\n'
  );
}

export function renderKeys(rows: KeyRow[]): string {
  if (!rows.length) return 'no signing keys yet: maint keys rotate --wait\n';
  return (
    table(
      ['kid', 'alg', 'state', 'created', 'activated', 'retired', 'verifies until', 'withdrawn', 'deleted'],
      rows.map((k) => [k.kid, k.alg, k.state, k.createdAt, k.activatedAt, k.retiredAt, k.tokensExpireBy, k.withdrawnAt, k.deletedAt]),
    ) + '\n'
  );
}

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
  ].join('\n');
}
