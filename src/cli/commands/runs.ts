import type { Command } from 'commander';
import { withPoolDb } from '../../db/query.js';
import { listRuns, runDetail } from '../../db/run-record.js';
import { InputError } from '../../kernel/errors.js';
import { renderAftermath } from '../render.js';
import { commandDatabase, parseIntFlag, type SettingsSource } from '../context.js';
import { formatCounts, table } from '../../kernel/text.js';
import type { Settings } from '../../settings/index.js';

interface RunsFlags {
  limit: number;
  job?: string;
  json?: boolean;
  databaseUrl?: string;
}

/** Why a run failed (or what a completed one could not do), on one line; a run that replaces another says which. */
function errorCell(r: Record<string, any>): string {
  const reason = r.error ? String(r.error).replace(/\s+/g, ' ') : '';
  const short = reason.length > 160 ? `${reason.slice(0, 159)}…` : reason;
  return [short, r.replaces ? `(replaces run ${r.replaces})` : ''].filter(Boolean).join(' ');
}

/** One run in full: its fields, then what a purge left behind (docs/purge-engine.md, "After a purge"). */
async function showRun(s: Settings, id: string, flags: RunsFlags): Promise<void> {
  const r = await withPoolDb(await commandDatabase(s, flags.databaseUrl, 1), (db) => runDetail(db, id));
  if (!r) throw new InputError('id', `no run ${JSON.stringify(id)} on record; expected a run id or workflow id from maint runs`);
  if (flags.json) {
    process.stdout.write(JSON.stringify(r) + '\n');
    return;
  }
  const time = (v: unknown) => (v ? new Date(v as string).toISOString() : '');
  const fields: Array<[string, unknown]> = [
    ['run', r.id], ['workflow', r.workflow_id], ['job', r.job], ['status', r.status + (r.dry_run ? ' (dry run)' : '')], ['trigger', r.trigger],
    ['parameters', JSON.stringify(r.parameters)], ['cutoff', time(r.cutoff)], ['started', time(r.started_at)], ['finished', time(r.finished_at)],
    ['matched', r.matched], ['deleted', r.deleted], ['updated', r.updated], ['dependents', formatCounts(r.children_deleted ?? {})], ['batches', r.batches],
    ['seconds', r.duration_ms === null ? '' : (Number(r.duration_ms) / 1000).toFixed(2)], ['rows/s', r.rows_per_second], ['error', errorCell(r)],
  ];
  process.stdout.write(table(['field', 'value'], fields.map(([k, v]) => [k, v === null || v === undefined ? '' : String(v)])) + '\n' + (r.aftermath ? renderAftermath(r.aftermath) : ''));
}

export function registerRuns(program: Command, settings: SettingsSource): void {
  program
    .command('runs')
    .description('list recent runs from the audit table; with a run or workflow id, that run in full, with what it left behind')
    .argument('[id]', 'one run: its run id or workflow id (`maint runs` lists them)')
    .option('--limit <n>', 'how many (1-1000)', parseIntFlag('--limit', 1, 1000), 20)
    .option('--job <name>', 'only this job')
    .option('--json', 'print JSON')
    .option('--database-url <url>', 'database (default: DATABASE_URL, else the local environment)')
    .action(async (id: string | undefined, flags: RunsFlags) => {
      if (id !== undefined) return showRun(await settings(), id, flags);
      const rows = await withPoolDb(await commandDatabase(await settings(), flags.databaseUrl, 1), (db) => listRuns(db, { job: flags.job, limit: flags.limit }));
      if (flags.json) {
        process.stdout.write(JSON.stringify(rows) + '\n');
        return;
      }
      process.stdout.write(
        table(
          ['started', 'job', 'status', 'dry', 'trigger', 'matched', 'deleted', 'dependents', 'batches', 'seconds', 'rows/s', 'workflow', 'error'],
          rows.map((r) => [
            new Date(r.started_at).toISOString(),
            r.job,
            r.status,
            r.dry_run ? 'yes' : '',
            r.trigger,
            r.matched,
            r.deleted,
            formatCounts(r.children_deleted),
            r.batches,
            r.duration_ms === null ? '' : (Number(r.duration_ms) / 1000).toFixed(2),
            r.rows_per_second,
            r.workflow_id,
            errorCell(r),
          ]),
        ) + '\n',
      );
    });
}
