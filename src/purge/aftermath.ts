/**
 * What a purge leaves behind (docs/purge-engine.md, "After a purge"): per table its dead tuples and what
 * autovacuum will do about them, the WAL written over the run, whether the run covered everything it matched, and
 * advice. Shapes and pure rules only: activities/purge/aftermath.ts reads the catalog, and workflow code imports
 * the types.
 */

/** Autovacuum as it applies to one table: the server's settings, overridden by the table's reloptions. */
export interface AutovacuumOfTable {
  enabled: boolean;
  /** Dead tuples above which autovacuum vacuums the table: baseThreshold + scaleFactor * reltuples (capped, PostgreSQL 18). */
  threshold: number;
  baseThreshold: number;
  scaleFactor: number;
  /** The table's row estimate autovacuum uses (pg_class.reltuples; 0 when never analysed). */
  reltuples: number;
  /** Whether the table's own reloptions set any of them. */
  fromTable: boolean;
}

/**
 * - `below-threshold`: autovacuum leaves the table alone until more rows die;
 * - `due`: over the threshold: autovacuum takes the table at its next round (autovacuum_naptime);
 * - `far-over`: more than FAR_OVER times the threshold: autovacuum will come, but one purge leaves far more than
 *   it is tuned for on this table;
 * - `disabled`: autovacuum (or track_counts) is off for this table: nothing removes the dead tuples but a VACUUM.
 */
export type AutovacuumVerdict = 'below-threshold' | 'due' | 'far-over' | 'disabled';

/** What the advice suggests for a table a purge leaves far over its threshold: a vacuum every 1% of its rows, during the purge too. */
export const SUGGESTED_SCALE_FACTOR = 0.01;

/** Dead tuples this many times over the table's threshold are "far over" it. */
export const FAR_OVER = 4;

export interface TableAftermath {
  table: string;
  /** Rows this run deleted or updated in the table (its ledger: exact). */
  changed: number;
  /** pg_stat_user_tables' n_live_tup and n_dead_tup when read. */
  liveTuples: number;
  deadTuples: number;
  /**
   * The dead tuples the verdict judges: n_dead_tup, or the rows this run changed when more and no vacuum of the
   * table ended since the run started (each session reports its counts up to 10 s late).
   */
  deadJudged: number;
  lastAutovacuum: string | null;
  lastAutoanalyze: string | null;
  lastVacuum: string | null;
  lastAnalyze: string | null;
  autovacuum: AutovacuumOfTable;
  verdict: AutovacuumVerdict;
  /** After `vacuum: true`: the table's counts once VACUUM (ANALYZE) ended, or why it did not run on it. */
  vacuumed?: { liveTuples: number; deadTuples: number; durationMs: number; walBytes: number | null } | { skipped: string };
}

export interface PurgeAftermath {
  /** When the statistics were read (the database's clock). */
  at: string;
  /**
   * WAL the server wrote from the run's start to `at` (pg_current_wal_insert_lsn at both ends): every database's
   * and session's, not this run's alone; on a server that does little else, about the run's. Null for a run that
   * started before this was recorded.
   */
  wal: { bytes: number; from: string; to: string; scope: 'server' } | null;
  tables: TableAftermath[];
  /** Whether the run walked every step to its end, and what it left of what it matched (see src/health/purge-rates.ts). */
  backlog: { complete: boolean; eligible: number | null; left: number | null; exact: boolean };
  advice: string[];
  /** The VACUUM (ANALYZE) asked for with `vacuum: true`: its duration and the server's WAL over it. */
  vacuum?: { durationMs: number; walBytes: number | null } | { error: string } | { cancelled: true };
  /** Why the statistics could not be read (the run's record is closed anyway). */
  error?: string;
}

/** A step as the aftermath judges it: its table and timestamp, and how its plan walked it. */
export interface AftermathStep {
  table: string;
  timestampColumn: string;
  strategy: 'timestamp-index' | 'key-chunks';
}

/** The server's autovacuum settings (pg_settings) and a table's reloptions, as the aftermath reads them. */
export interface AutovacuumSettings {
  autovacuum: boolean;
  trackCounts: boolean;
  threshold: number;
  scaleFactor: number;
  /** PostgreSQL 18's autovacuum_vacuum_max_threshold (-1: no cap); absent before 18. */
  maxThreshold?: number;
  naptimeSeconds: number;
}

/** `name=value` reloptions as pg_class keeps them. */
function reloption(reloptions: string[] | null, name: string): string | undefined {
  const hit = (reloptions ?? []).find((o) => o.startsWith(`${name}=`));
  return hit?.slice(name.length + 1);
}

/** The threshold autovacuum applies to a table, as PostgreSQL computes it (autovacuum.c, relation_needs_vacanalyze). */
export function autovacuumOf(server: AutovacuumSettings, reloptions: string[] | null, reltuples: number): AutovacuumOfTable {
  const base = reloption(reloptions, 'autovacuum_vacuum_threshold');
  const scale = reloption(reloptions, 'autovacuum_vacuum_scale_factor');
  const max = reloption(reloptions, 'autovacuum_vacuum_max_threshold');
  const enabled = reloption(reloptions, 'autovacuum_enabled');
  const baseThreshold = base !== undefined ? Number(base) : server.threshold;
  const scaleFactor = scale !== undefined ? Number(scale) : server.scaleFactor;
  // A table never vacuumed nor analysed has reltuples -1: autovacuum counts it as empty.
  const tuples = Math.max(0, reltuples);
  const cap = max !== undefined ? Number(max) : server.maxThreshold;
  const raw = baseThreshold + scaleFactor * tuples;
  const threshold = Math.round(cap !== undefined && cap >= 0 ? Math.min(raw, cap) : raw);
  return {
    enabled: server.autovacuum && server.trackCounts && !(enabled !== undefined && /^(false|off|no|0)$/i.test(enabled)),
    threshold,
    baseThreshold,
    scaleFactor,
    reltuples: tuples,
    fromTable: base !== undefined || scale !== undefined || max !== undefined || enabled !== undefined,
  };
}

export function verdictOf(dead: number, av: AutovacuumOfTable): AutovacuumVerdict {
  if (!av.enabled) return 'disabled';
  if (dead <= av.threshold) return 'below-threshold';
  return dead > FAR_OVER * Math.max(av.threshold, 1) ? 'far-over' : 'due';
}

/** A table's verdict in words (the CLI and the report). */
export function describeVerdict(t: TableAftermath, naptimeSeconds?: number): string {
  const over = `${t.deadJudged} dead tuples, autovacuum's threshold ${t.autovacuum.threshold}`;
  switch (t.verdict) {
    case 'disabled':
      return `${over}, but autovacuum is off for this table: only a VACUUM removes them`;
    case 'below-threshold':
      return `${over}: below it, autovacuum leaves the table alone for now`;
    case 'due':
      return `${over}: autovacuum takes the table at its next round${naptimeSeconds ? ` (every ${naptimeSeconds} s)` : ''} when a worker is free`;
    case 'far-over':
      return `${over}: more than ${FAR_OVER}x over it; autovacuum will come, but this table is tuned for far less churn than a purge makes`;
  }
}

/**
 * Advice from what a run left: the index a step would be faster with (its plan walked the key because no index
 * leads with the rule's timestamp), autovacuum settings for a table the run left far over its threshold (one it
 * changed) or with autovacuum off, and the old transaction that keeps VACUUM from removing anything the run deleted.
 */
export function adviseAftermath(input: {
  steps: AftermathStep[];
  /** Tables whose timestamp column has a usable index now (a btree index leading with it). */
  indexed: ReadonlySet<string>;
  tables: TableAftermath[];
  /** The oldest open transaction of another session, when it began before the run's rows were deleted. */
  holdsBack?: { pid: number; since: string; application: string } | null;
}): string[] {
  const advice: string[] = [];
  for (const s of input.steps) {
    if (s.strategy !== 'key-chunks' || input.indexed.has(`${s.table}.${s.timestampColumn}`)) continue;
    advice.push(
      `${s.table}: no index leads with ${s.timestampColumn}, so each run reads the table's key range whole; with ` +
        `CREATE INDEX CONCURRENTLY ON ${s.table} (${s.timestampColumn}) (a migration of the application that owns the table) batches would read only the rows that match`,
    );
  }
  for (const t of input.tables) {
    if (t.verdict === 'disabled' && t.deadJudged > 0) {
      advice.push(`${t.table}: autovacuum is off for it and ${t.deadJudged} dead tuples stay until a VACUUM: run purges with --vacuum, or ALTER TABLE ${t.table} RESET (autovacuum_enabled)`);
    } else if (t.verdict === 'far-over' && t.changed > 0) {
      advice.push(
        `${t.table}: the run left ${t.deadJudged} dead tuples, more than ${FAR_OVER}x autovacuum's threshold of ${t.autovacuum.threshold}` +
          `; so that autovacuum keeps pace during a purge, ALTER TABLE ${t.table} SET ` +
          `(autovacuum_vacuum_scale_factor = ${SUGGESTED_SCALE_FACTOR}, autovacuum_vacuum_threshold = 1000), or run purges with --vacuum`,
      );
    }
  }
  if (input.holdsBack) {
    const h = input.holdsBack;
    advice.push(
      `a transaction open since ${h.since} (pid ${h.pid}${h.application ? `, ${h.application}` : ''}) began before the run's deletes: no VACUUM can remove the rows they left until it ends`,
    );
  }
  return advice;
}

/** The table a dependent's count is labelled with (`table` or `table.column (set null)`). */
export function tableOfLabel(label: string): string {
  return label.endsWith(' (set null)') ? label.slice(0, label.indexOf('.')) : label;
}
