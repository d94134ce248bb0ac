import { CancelledFailure, Context } from '@temporalio/activity';
import type { Db } from '../../src/db/query.js';
import type { Logger } from '../../src/logger.js';
import * as runRecord from '../../src/db/run-record.js';
import { toNumber } from '../../src/kernel/counts.js';
import { ident } from '../../src/purge/identifiers.js';
import { adviseAftermath, autovacuumOf, tableOfLabel, verdictOf, type AftermathStep, type AutovacuumSettings, type PurgeAftermath, type TableAftermath } from '../../src/purge/aftermath.js';
import { executionRunId } from '../execution.js';
import { timestampIndexOf } from './plan.js';
import { walCompressionServer } from './wal-compression.js';
import { chooseWalCompression, walCompressionAdvice, type WalCompressionMode } from '../../src/purge/wal-compression.js';

/** Sessions report their table counts to the statistics at most once a second, and an idle one within 10 s. */
const STATS_FLUSH_MS = 11_000;

export interface AftermathInput {
  runId: string;
  steps: AftermathStep[];
  /** Every table the run's rules change: the steps' tables, their dependents' and cascades'. */
  tables: string[];
  /** Whether the run walked every step to its end. */
  complete: boolean;
  /** The planner's estimate of the matching rows at the run's start (its progress total). */
  estimatedAtStart: number | null;
  leftLocked: number;
}

export interface VacuumInput {
  runId: string;
  tables: Array<{ table: string; changed: number }>;
}

export interface VacuumResult {
  durationMs: number;
  walBytes: number | null;
  tables: Record<string, NonNullable<TableAftermath['vacuumed']>>;
}

const iso = (v: unknown): string | null => (v ? new Date(v as string).toISOString() : null);

async function serverSettings(db: Db): Promise<AutovacuumSettings> {
  const rows = await db.query<{ name: string; setting: string }>(
    `SELECT name, setting FROM pg_settings WHERE name IN ('autovacuum', 'track_counts', 'autovacuum_vacuum_threshold', 'autovacuum_vacuum_scale_factor', 'autovacuum_vacuum_max_threshold', 'autovacuum_naptime')`,
  );
  const get = (n: string) => rows.find((r) => r.name === n)?.setting;
  const max = get('autovacuum_vacuum_max_threshold');
  return {
    autovacuum: get('autovacuum') === 'on',
    trackCounts: get('track_counts') === 'on',
    threshold: Number(get('autovacuum_vacuum_threshold') ?? 50),
    scaleFactor: Number(get('autovacuum_vacuum_scale_factor') ?? 0.2),
    ...(max !== undefined ? { maxThreshold: Number(max) } : {}),
    naptimeSeconds: Number(get('autovacuum_naptime') ?? 60),
  };
}

interface TableStats {
  oid: number;
  live: number;
  dead: number;
  reltuples: number;
  reloptions: string[] | null;
  lastAutovacuum: string | null;
  lastAutoanalyze: string | null;
  lastVacuum: string | null;
  lastAnalyze: string | null;
}

async function tableStats(db: Db, table: string): Promise<TableStats | undefined> {
  const [r] = await db.query<Record<string, unknown>>(
    `SELECT c.oid::int AS oid, coalesce(s.n_live_tup, 0) AS live, coalesce(s.n_dead_tup, 0) AS dead, c.reltuples::float8 AS reltuples, c.reloptions,
            s.last_autovacuum, s.last_autoanalyze, s.last_vacuum, s.last_analyze
       FROM pg_class c LEFT JOIN pg_stat_all_tables s ON s.relid = c.oid WHERE c.oid = to_regclass(quote_ident(?))`,
    [table],
  );
  if (!r) return undefined;
  return {
    oid: toNumber(r.oid),
    live: toNumber(r.live),
    dead: toNumber(r.dead),
    reltuples: toNumber(r.reltuples),
    reloptions: (r.reloptions as string[] | null) ?? null,
    lastAutovacuum: iso(r.last_autovacuum),
    lastAutoanalyze: iso(r.last_autoanalyze),
    lastVacuum: iso(r.last_vacuum),
    lastAnalyze: iso(r.last_analyze),
  };
}

/** Rows the run changed per table, from its ledger: each step's rows in its table, each dependent's in its own. */
async function changedPerTable(db: Db, recordId: string, steps: AftermathStep[]): Promise<{ perTable: Map<string, number>; parents: number }> {
  const perStep = await db.query<{ step: number; n: string }>('SELECT step, sum(deleted + updated)::bigint AS n FROM purge_batch WHERE run_id = ? GROUP BY step', [recordId]);
  const children = await db.query<{ k: string; v: string }>(
    'SELECT key AS k, sum(value::bigint)::bigint AS v FROM purge_batch, jsonb_each_text(children) WHERE run_id = ? GROUP BY key',
    [recordId],
  );
  const perTable = new Map<string, number>();
  const add = (t: string, n: number) => perTable.set(t, (perTable.get(t) ?? 0) + n);
  let parents = 0;
  for (const r of perStep) {
    const step = steps[toNumber(r.step)];
    parents += toNumber(r.n);
    if (step) add(step.table, toNumber(r.n));
  }
  for (const c of children) add(tableOfLabel(c.k), toNumber(c.v));
  return { perTable, parents };
}

/** The run's WAL so far: the server's insert position now against the one its start recorded. */
async function walOfRun(db: Db, recordId: string): Promise<{ wal: PurgeAftermath['wal']; at: string; startedAt: string | null }> {
  const [r] = await db.query<Record<string, unknown>>(
    `SELECT m.wal_start_lsn AS "from", l.lsn::text AS "to", now() AS at, m.started_at,
            CASE WHEN m.wal_start_lsn IS NOT NULL THEN pg_wal_lsn_diff(l.lsn, m.wal_start_lsn::pg_lsn)::float8 END AS bytes
       FROM (SELECT pg_current_wal_insert_lsn() AS lsn) l LEFT JOIN maintenance_run m ON m.id = ?`,
    [recordId],
  );
  const wal = r?.from ? { bytes: Math.max(0, toNumber(r.bytes)), from: String(r.from), to: String(r.to), scope: 'server' as const } : null;
  return { wal, at: iso(r?.at) ?? new Date().toISOString(), startedAt: iso(r?.started_at) };
}

/** The oldest transaction of another client of this database that began before `before` (it holds back VACUUM). */
async function oldestTransaction(db: Db, before: string): Promise<{ pid: number; since: string; application: string } | null> {
  const [r] = await db.query<Record<string, unknown>>(
    `SELECT pid, xact_start, application_name FROM pg_stat_activity
      WHERE datname = current_database() AND backend_type = 'client backend' AND backend_xmin IS NOT NULL
        AND pid <> pg_backend_pid() AND xact_start < ?::timestamptz ORDER BY xact_start LIMIT 1`,
    [before],
  );
  return r ? { pid: toNumber(r.pid), since: iso(r.xact_start)!, application: String(r.application_name ?? '') } : null;
}

export function createAftermathActivities({ db, logger, walCompression = 'auto' }: { db: Db; logger: Logger; walCompression?: WalCompressionMode }) {
  return {
    /**
     * What a purge left: per table its dead and live tuples, last (auto)vacuum and analyze, autovacuum's threshold
     * and verdict; the server's WAL over the run; what the run left of what it matched; advice. Reads only. A
     * failure to read is reported in the result, never fails the run: its record is closed either way.
     */
    async purgeAftermath(input: AftermathInput): Promise<PurgeAftermath> {
      const { id: recordId } = await runRecord.recordOf(db, { runId: input.runId, executionRunId: executionRunId() });
      const { perTable, parents } = await changedPerTable(db, recordId, input.steps);
      const backlog: PurgeAftermath['backlog'] = input.complete
        ? { complete: true, eligible: parents + input.leftLocked, left: input.leftLocked, exact: true }
        : { complete: false, eligible: input.estimatedAtStart, left: input.estimatedAtStart === null ? null : Math.max(0, input.estimatedAtStart - parents), exact: false };
      try {
        const { wal, at, startedAt } = await walOfRun(db, recordId);
        const server = await serverSettings(db);
        const tables: TableAftermath[] = [];
        const indexed = new Set<string>();
        for (const table of input.tables) {
          const s = await tableStats(db, table);
          if (!s) continue;
          const changed = perTable.get(table) ?? 0;
          // Unreported counts of the run's sessions are still dead tuples, unless a vacuum ran since the run began.
          const vacuumedSince = [s.lastAutovacuum, s.lastVacuum].some((t) => t && startedAt && t >= startedAt);
          const deadJudged = vacuumedSince ? s.dead : Math.max(s.dead, changed);
          const autovacuum = autovacuumOf(server, s.reloptions, s.reltuples);
          tables.push({
            table, changed, liveTuples: s.live, deadTuples: s.dead, deadJudged,
            lastAutovacuum: s.lastAutovacuum, lastAutoanalyze: s.lastAutoanalyze, lastVacuum: s.lastVacuum, lastAnalyze: s.lastAnalyze,
            autovacuum, verdict: verdictOf(deadJudged, autovacuum),
          });
          for (const step of input.steps.filter((x) => x.table === table)) {
            if (await timestampIndexOf(db, s.oid, step.timestampColumn)) indexed.add(`${table}.${step.timestampColumn}`);
          }
        }
        const holdsBack = startedAt ? await oldestTransaction(db, startedAt) : null;
        const advice = adviseAftermath({ steps: input.steps, indexed, tables, holdsBack });
        // A run that changed rows with its full-page images uncompressed, for want of a grant.
        if (walCompression !== 'off' && tables.some((t) => t.changed > 0)) {
          const server = await walCompressionServer(db);
          const choice = chooseWalCompression(walCompression, server);
          if (choice.set === null && choice.why === 'no-privilege') advice.push(walCompressionAdvice(server.role, server.version));
        }
        return { at, wal, tables, backlog, advice };
      } catch (err) {
        logger.warn({ runId: input.runId, err: (err as Error).message }, 'purge aftermath: statistics not read');
        return { at: new Date().toISOString(), wal: null, tables: [], backlog, advice: [], error: (err as Error).message };
      }
    },

    /**
     * VACUUM (ANALYZE) of the tables a run changed (`vacuum: true`), one at a time, outside any transaction (VACUUM
     * cannot run in one). Waits first until the run's sessions have reported their counts, so the statistics the
     * VACUUM leaves are not raised again by a late report. Heartbeats its progress (pg_stat_progress_vacuum); a
     * cancel cancels the running VACUUM's backend. Idempotent: a retry vacuums again, which is harmless.
     */
    async vacuumTables(input: VacuumInput): Promise<VacuumResult> {
      const ctx = Context.current();
      const { id: recordId } = await runRecord.recordOf(db, { runId: input.runId, executionRunId: executionRunId() });
      let current: { table: string; sql: string } | undefined;
      const beat = setInterval(() => {
        const c = current;
        void (c
          ? db.query<Record<string, unknown>>('SELECT phase, heap_blks_total, heap_blks_scanned FROM pg_stat_progress_vacuum WHERE relid = to_regclass(quote_ident(?))', [c.table])
              .then(([p]) => ctx.heartbeat({ vacuuming: c.table, phase: p?.phase ?? 'starting', blocks: p ? `${toNumber(p.heap_blks_scanned)}/${toNumber(p.heap_blks_total)}` : null }))
              .catch(() => ctx.heartbeat({ vacuuming: c.table }))
          : Promise.resolve(ctx.heartbeat({ waiting: 'for the statistics of the run' })));
      }, 2_000);
      const cancelRunning = () => {
        const c = current;
        if (c) void db.query("SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE state = 'active' AND query = ? AND pid <> pg_backend_pid()", [c.sql]).catch(() => undefined);
      };
      ctx.cancellationSignal.addEventListener('abort', cancelRunning);
      const stopIfCancelled = () => {
        if (ctx.cancellationSignal.aborted) throw new CancelledFailure('VACUUM cancelled: the purge was cancelled');
      };
      try {
        const [w] = await db.query<{ ms: number }>(
          `SELECT greatest(0, extract(epoch FROM max(committed_at) + make_interval(secs => ?) - now()) * 1000)::float8 AS ms FROM purge_batch WHERE run_id = ?`,
          [STATS_FLUSH_MS / 1000, recordId],
        );
        const flushBy = Date.now() + toNumber(w?.ms);
        const started = performance.now();
        const [lsn] = await db.query<{ lsn: string }>('SELECT pg_current_wal_insert_lsn()::text AS lsn');
        const out: VacuumResult = { durationMs: 0, walBytes: null, tables: {} };
        for (const { table, changed } of input.tables) {
          // Until every batch's session reported (or the run's counts show), the counts may still rise.
          while (Date.now() < flushBy && ((await tableStats(db, table))?.dead ?? 0) < changed) {
            stopIfCancelled();
            await ctx.sleep(500);
          }
          stopIfCancelled();
          const [before] = await db.query<{ now: string; lsn: string }>('SELECT now() AS now, pg_current_wal_insert_lsn()::text AS lsn');
          const sql = `VACUUM (ANALYZE) ${ident(table)} /* auth-maintenance run ${recordId} */`;
          current = { table, sql };
          const t0 = performance.now();
          try {
            await db.query(sql);
          } catch (err) {
            stopIfCancelled();
            throw err;
          } finally {
            current = undefined;
          }
          const s = await tableStats(db, table);
          const [after] = await db.query<{ bytes: number }>('SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), ?::pg_lsn)::float8 AS bytes', [before!.lsn]);
          // VACUUM skips, with a warning only, a table the role may not vacuum (it is not its owner).
          const ran = s?.lastVacuum && s.lastVacuum >= new Date(before!.now).toISOString();
          out.tables[table] = ran
            ? { liveTuples: s.live, deadTuples: s.dead, durationMs: Math.round(performance.now() - t0), walBytes: Math.round(toNumber(after?.bytes)) }
            : { skipped: 'VACUUM skipped the table: the role this tool connects as may not vacuum it (only its owner, a superuser or the database owner may)' };
        }
        const [end] = await db.query<{ bytes: number }>('SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), ?::pg_lsn)::float8 AS bytes', [lsn!.lsn]);
        out.durationMs = Math.round(performance.now() - started);
        out.walBytes = Math.round(toNumber(end?.bytes));
        return out;
      } finally {
        clearInterval(beat);
        ctx.cancellationSignal.removeEventListener('abort', cancelRunning);
      }
    },
  };
}
