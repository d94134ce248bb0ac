import type { HealthReport } from '../health/types.js';
import type { RunnableJob } from '../jobs/runnable.js';
import type { KeyRow, RotationResult, SweepResult } from '../keys/types.js';
import type { RefreshResult } from '../oidc/types.js';
import type { ScopesResult } from '../scopes.js';
import { table } from './format.js';

/** Plain-text renderings of job results; `--json` prints the results themselves. */

function renderSweep(r: SweepResult): string {
  const rows = [
    ...r.withdrawn.map((kid) => [kid, r.dryRun ? 'would withdraw from the JWKS' : 'withdrawn from the JWKS', '']),
    ...r.deleted.map((kid) => [kid, r.dryRun ? 'would delete' : 'deleted (private key wiped)', '']),
    ...r.kept.map((k) => [k.kid, `kept (${k.state})`, k.reason]),
  ];
  const head = r.dryRun ? 'dry run: nothing changed\n' : '';
  return head + (rows.length ? table(['kid', 'action', 'reason'], rows) : 'no retired or inactive keys') + '\n';
}

function renderScopes(r: ScopesResult): string {
  const rows = [...r.created.map((s) => [s, r.dryRun ? 'would create' : 'created']), ...r.existing.map((s) => [s, 'exists'])];
  return table(['scope', 'status'], rows) + '\n';
}

function renderRefresh(r: RefreshResult): string {
  if (!r.providers.length) return 'no OIDC providers configured (OIDC_PROVIDERS)\n';
  const rows = r.providers.map((p) => [p.name, p.status, p.keys, p.status === 'failed' ? (p.lastGoodKept ? 'kept' : 'none') : '', p.error ?? '']);
  const tail = r.failed.length ? `\nfailed: ${r.failed.join(', ')}\n` : '';
  return table(['provider', 'status', 'keys', 'last good copy', 'error'], rows) + '\n' + tail;
}

export function renderJobResult(type: RunnableJob['workflowType'], result: unknown): string {
  switch (type) {
    case 'keypairCleanup':
      return renderSweep(result as SweepResult);
    case 'ensureScopes':
      return renderScopes(result as ScopesResult);
    case 'refreshOidcJwks':
      return renderRefresh(result as RefreshResult);
    default:
      return JSON.stringify(result, null, 2) + '\n';
  }
}

/** Completed, but not everything it should have done happened. */
export function jobResultFailed(type: RunnableJob['workflowType'], result: unknown): boolean {
  return type === 'refreshOidcJwks' && (result as RefreshResult).failed.length > 0;
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
