import type { PurgeResult } from '../purge/types.js';
import type { KeyRow, RotationResult, SweepResult } from '../keys/types.js';
import type { RefreshResult } from '../oidc/types.js';
import type { ScopesResult } from '../scopes.js';
import type { JobEntry, WorkflowName } from '../catalogue/index.js';
import { formatBytes, renderReport } from '../health/render.js';
import { describeVerdict, type PurgeAftermath } from '../purge/aftermath.js';
import { formatCounts, table } from '../kernel/text.js';
import { shareInWords } from '../purge/breakers.js';

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

export function renderPurgeResult(r: PurgeResult, opts: { explain?: boolean } = {}): string {
  const wouldUpdate = r.dryRun ? (r.updated ?? 0) : 0;
  return (
    table(
      ['field', 'value'],
      [
        ['job', r.job],
        ['status', r.status + (r.dryRun ? ' (dry run: nothing changed)' : '')],
        ...(r.cutoffs ? Object.entries(r.cutoffs).map(([step, at]) => [`cutoff of ${step}`, at] as [string, string]) : [['cutoff', r.cutoff] as [string, string]]),
        ['matched', r.matched],
        [r.dryRun ? 'would delete' : 'deleted', r.dryRun ? (r.matched ?? 0) - wouldUpdate : r.deleted],
        ...(wouldUpdate ? [['would update', wouldUpdate] as [string, number]] : []),
        [r.dryRun ? 'would delete dependents' : 'dependents deleted', formatCounts(r.children)],
        ...(r.updated && !r.dryRun ? [['updated', r.updated] as [string, number]] : []),
        ...(r.steps ? [[r.dryRun ? 'per step (would change)' : 'per step', formatCounts(r.steps)] as [string, string]] : []),
        ['batches', r.batches],
        ['duration', `${(r.durationMs / 1000).toFixed(2)} s`],
        ['rows/s', r.rowsPerSecond],
        ...(r.skippedLocked ? [['left (locked on both passes)', r.skippedLocked] as [string, number]] : []),
        ...(r.stopped ? [['stopped', r.stopped.reason] as [string, string]] : []),
        ...(r.limits ? [['limits', limitsInWords(r.limits)] as [string, string]] : []),
        ...(r.shares ?? []).map((s) => [`fraction guard: ${s.step}`, shareInWords(s, r.limits?.maxFraction)] as [string, string]),
      ],
    ) + '\n' + (r.notes?.length ? r.notes.map((n) => `note: ${n}\n`).join('') : '') + renderPlans(r, opts.explain === true) + (r.aftermath ? renderAftermath(r.aftermath) : '')
  );
}

/** What a run left behind: per table dead tuples and autovacuum's verdict, the server's WAL over the run, its VACUUM, advice. */
export function renderAftermath(a: PurgeAftermath): string {
  if (a.error) return `\nafter the purge: the statistics could not be read (${a.error})\n`;
  const rows = a.tables.map((t) => [
    t.table,
    t.changed,
    t.liveTuples,
    t.deadJudged,
    t.autovacuum.threshold + (t.autovacuum.fromTable ? ' (table)' : ''),
    t.verdict,
    t.lastAutovacuum ?? 'never',
    !t.vacuumed ? '' : 'skipped' in t.vacuumed ? 'skipped' : `${t.vacuumed.deadTuples} dead after`,
  ]);
  const wal = a.wal ? `server WAL over the run: ${formatBytes(a.wal.bytes)} (${a.wal.from} to ${a.wal.to}; every session's, not this run's alone)` : 'server WAL over the run: not recorded';
  const vacuum = !a.vacuum ? [] : 'cancelled' in a.vacuum ? ['VACUUM: cancelled'] : 'error' in a.vacuum ? [`VACUUM failed: ${a.vacuum.error}`] : [`VACUUM (ANALYZE): ${(a.vacuum.durationMs / 1000).toFixed(2)} s, server WAL over it ${formatBytes(a.vacuum.walBytes)}`];
  const skipped = a.tables.flatMap((t) => (t.vacuumed && 'skipped' in t.vacuumed ? [`${t.table}: ${t.vacuumed.skipped}`] : []));
  return [
    '',
    'after the purge',
    table(['table', 'changed', 'live', 'dead', 'autovacuum at', 'verdict', 'last autovacuum', 'vacuum'], rows),
    wal,
    ...vacuum,
    ...skipped,
    ...a.tables.filter((t) => t.verdict !== 'below-threshold').map((t) => `${t.table}: ${describeVerdict(t)}`),
    ...a.advice.map((x) => `advice: ${x}`),
    '',
  ].join('\n');
}

/** A run's circuit breakers in one line. */
function limitsInWords(l: NonNullable<PurgeResult['limits']>): string {
  return [
    ...(l.maxRows !== undefined ? [`maxRows ${l.maxRows}`] : []),
    ...(l.maxDurationSeconds !== undefined ? [`maxDurationSeconds ${l.maxDurationSeconds}${l.stopsAt ? ` (until ${l.stopsAt})` : ''}`] : []),
    ...(l.maxFraction !== undefined ? [`maxFraction ${l.maxFraction}${l.maxFraction >= 1 ? ' (guard off)' : ''}`] : []),
  ].join(', ');
}

/** How each step walks its table; with --explain, what PostgreSQL plans for one batch of each (a dry run asks it). */
function renderPlans(r: PurgeResult, explain: boolean): string {
  if (!r.plans?.length) return '';
  const rows = r.plans.map((p) => [
    p.step,
    p.strategy,
    p.index,
    `${p.key} (${p.keyType})`,
    `${p.chunk}${p.adaptive ? ' (adapts)' : ''}`,
    p.lanes.length,
  ]);
  const explains = explain ? r.plans.filter((p) => p.explain).map((p) => `\nEXPLAIN of one batch of ${p.step}:\n${p.explain}\n`) : [];
  const hint = !explain && r.plans.some((p) => p.explain) ? '(--explain prints the EXPLAIN of one batch of each step)\n' : '';
  return '\n' + table(['step', 'walk', 'index', 'key', 'first batch', 'lanes'], rows) + '\n' + explains.join('') + hint;
}

export function renderRotation(r: RotationResult): string {
  return (
    table(
      ['field', 'value'],
      [
        ['status', r.status],
        ['reason', r.reason],
        [r.status === 'standby' ? 'standby key' : 'new signing key', r.kid ? `${r.kid} (${r.alg})` : ''],
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
  if (!rows.length) return 'no signing keys yet: maint init\n';
  return (
    table(
      ['kid', 'alg', 'state', 'created', 'activated', 'retired', 'verifies until', 'withdrawn', 'deleted'],
      rows.map((k) => [k.kid, k.alg, k.state, k.createdAt, k.activatedAt, k.retiredAt, k.tokensExpireBy, k.withdrawnAt, k.deletedAt]),
    ) + '\n'
  );
}

/** How `maint run` and `maint report` show each workflow's result; `--json` prints the result itself. */
const RENDERERS: { [K in WorkflowName]?: (result: never) => string } = {
  batchedPurge: renderPurgeResult,
  keyRotation: renderRotation,
  keypairCleanup: renderSweep,
  ensureScopes: renderScopes,
  refreshOidcJwks: renderRefresh,
  healthReport: renderReport,
};

/** A job's result as text (a workflow without a renderer of its own: its JSON). */
export function renderResult(job: JobEntry, result: unknown, opts: { explain?: boolean } = {}): string {
  if (job.workflow === 'batchedPurge') return renderPurgeResult(result as PurgeResult, opts);
  const render = RENDERERS[job.workflow];
  return render ? render(result as never) : `${JSON.stringify(result, null, 2)}\n`;
}

/** Completed, but not all it should have done happened (a provider down): the command exits 1. */
export function resultFailed(job: JobEntry, result: unknown): boolean {
  return job.workflow === 'refreshOidcJwks' && refreshFailed(result as RefreshResult);
}
