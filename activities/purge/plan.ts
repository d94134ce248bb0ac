import { InputError } from '../../src/kernel/errors.js';
import { ident } from '../../src/purge/identifiers.js';
import { buildMatchSql, buildWalkSql, type RowAddress, type Walk } from '../../src/purge/sql.js';
import type { RetentionRule, StepPlan } from '../../src/purge/types.js';
import type { Db } from '../../src/db/query.js';
import { FRACTION_EXACT_BELOW_ROWS, type StepShare } from '../../src/purge/breakers.js';


/** Tables with fewer rows than this are walked in one lane unless more are asked for: lanes cost a little each. */
const LANE_MIN_ROWS = 100_000;
const DEFAULT_LANES = 2;
const INTEGER_TYPES = new Set(['smallint', 'integer', 'bigint']);

export async function planStep(
  db: Db,
  rule: RetentionRule,
  opts: { cutoff: string; parallel?: number; maxParallel: number; batchSize: number; adaptive: boolean },
): Promise<StepPlan> {
  const { rel, key } = await keyOf(db, rule);
  const tsIndex = await timestampIndexOf(db, rel.oid, rule.timestampColumn);
  const estimatedRows = rel.reltuples >= 0 ? Math.round(rel.reltuples) : await boundedCount(db, rule.table);
  const wanted = opts.parallel ?? (estimatedRows >= LANE_MIN_ROWS ? DEFAULT_LANES : 1);
  const laneCount = Math.max(1, Math.min(wanted, opts.maxParallel));
  // The index walk reads only matching rows, but in timestamp order: scattered over the heap. When a large share
  // of a large table matches, reading it in key order (as it lies on disk) and deleting what matches is faster.
  const share = tsIndex && estimatedRows >= LANE_MIN_ROWS ? (await estimatedMatches(db, rule, opts.cutoff)) / Math.max(estimatedRows, 1) : 0;
  const strategy: StepPlan['strategy'] = tsIndex && share <= INDEX_WALK_MAX_SHARE ? 'timestamp-index' : 'key-chunks';
  const reason = !tsIndex
    ? `no index leads with ${rule.timestampColumn}`
    : strategy === 'timestamp-index'
      ? `${tsIndex.index} leads with ${rule.timestampColumn}${share ? ` and about ${Math.round(share * 100)}% of the rows match` : ''}`
      : `about ${Math.round(share * 100)}% of the rows match: reading the table in key order beats jumping along ${tsIndex.index}`;
  const lanes =
    strategy === 'timestamp-index'
      ? await timestampLanes(db, rule, opts.cutoff, laneCount)
      : await keyLanes(db, rule, key.type, laneCount, estimatedRows);
  return {
    strategy,
    index: strategy === 'timestamp-index' ? tsIndex!.index : key.index,
    key: rule.primaryKey,
    keyType: key.type,
    chunk: opts.adaptive ? (strategy === 'key-chunks' ? 5_000 : 1_000) : opts.batchSize,
    adaptive: opts.adaptive,
    lanes,
    estimatedRows,
    reason,
    ...((await walkRange(db, rule, strategy, key.type, opts.cutoff)) ?? {}),
  };
}

/** A valid, whole-table btree index that leads with `column` (what the timestamp walk needs), if the table has one. */
export async function timestampIndexOf(db: Db, relOid: number, column: string): Promise<{ index: string } | undefined> {
  const [found] = await db.query<{ index: string }>(
    `SELECT i.relname AS index
       FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_am am ON am.oid = i.relam
       JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = x.indkey[0]
      WHERE x.indrelid = ? AND x.indisvalid AND x.indpred IS NULL AND am.amname = 'btree' AND a.attname = ?
      ORDER BY x.indnkeyatts, i.relname LIMIT 1`,
    [relOid, column],
  );
  return found;
}

/**
 * The ends of the walk, for progress to place a lane's position between (its first lane starts below any bound,
 * its last ends above): the oldest timestamp and the cutoff, or the smallest and largest integer key. Index reads.
 */
async function walkRange(db: Db, rule: RetentionRule, strategy: StepPlan['strategy'], keyType: string, cutoff: string): Promise<Pick<StepPlan, 'range'> | undefined> {
  if (strategy === 'timestamp-index') {
    const [row] = await db.query<{ lo: string | Date | null }>(`SELECT min(${ident(rule.timestampColumn)}) AS lo FROM ${ident(rule.table)}`);
    return row?.lo ? { range: { lo: new Date(row.lo).toISOString(), hi: new Date(cutoff).toISOString() } } : undefined;
  }
  if (!INTEGER_TYPES.has(keyType)) return undefined;
  const k = ident(rule.primaryKey);
  const [row] = await db.query<{ lo: string | null; hi: string | null }>(`SELECT min(${k})::text AS lo, max(${k})::text AS hi FROM ${ident(rule.table)}`);
  return row?.lo != null && row.hi != null ? { range: { lo: row.lo, hi: row.hi } } : undefined;
}

/** Above this share of matching rows (on a large table) the key walk beats the timestamp index. */
const INDEX_WALK_MAX_SHARE = 0.2;

/** The planner's estimate of the rows a rule matches (from statistics: instant, whatever the table's size). */
export async function estimatedMatches(db: Db, rule: RetentionRule, cutoff: string): Promise<number> {
  const built = buildMatchSql(rule);
  const [row] = await db.query<{ 'QUERY PLAN': Array<{ Plan: { 'Plan Rows': number } }> }>(`EXPLAIN (FORMAT JSON) ${built.sql}`, built.bind(cutoff));
  return Math.round(row?.['QUERY PLAN']?.[0]?.Plan['Plan Rows'] ?? 0);
}

/** The rule's table and its key: a primary key or unique not-null single-column key, or an error naming it. */
export async function keyOf(db: Db, rule: RetentionRule): Promise<{ rel: { oid: number; reltuples: number }; key: { index: string; type: string } }> {
  const [rel] = await db.query<{ oid: number; reltuples: number }>(
    `SELECT c.oid::int AS oid, c.reltuples::float8 AS reltuples FROM pg_class c WHERE c.oid = to_regclass(quote_ident(?))`,
    [rule.table],
  );
  if (!rel) throw new InputError('table', `table "${rule.table}" does not exist in this database`);
  const [key] = await db.query<{ index: string; type: string }>(
    `SELECT i.relname AS index, format_type(a.atttypid, a.atttypmod) AS type
       FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_am am ON am.oid = i.relam
       JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = x.indkey[0]
      WHERE x.indrelid = ? AND x.indisunique AND x.indnkeyatts = 1 AND x.indisvalid AND x.indpred IS NULL
        AND am.amname = 'btree' AND a.attnotnull AND a.attname = ?
      ORDER BY x.indisprimary DESC, i.relname LIMIT 1`,
    [rel.oid, rule.primaryKey],
  );
  if (!key) {
    throw new InputError(
      `${rule.table}.${rule.primaryKey}`,
      `table "${rule.table}" has no primary key or unique not-null key on "${rule.primaryKey}"; a purge needs one to delete rows by key`,
    );
  }
  return { rel, key };
}

/**
 * How a batch reaches the rows it locked (see `RowAddress`): by ctid in a plain table with no inheritance children,
 * where a ctid names one row; by key anywhere else.
 */
export async function rowAddressOf(db: Db, table: string): Promise<RowAddress> {
  const [rel] = await db.query<{ kind: string; children: boolean }>(
    `SELECT c.relkind::text AS kind, c.relhassubclass AS children FROM pg_class c WHERE c.oid = to_regclass(quote_ident(?))`,
    [table],
  );
  return rel?.kind === 'r' && !rel.children ? 'ctid' : 'key';
}

/** Rows of a never-analysed table, counted up to the point where the answer no longer matters. */
async function boundedCount(db: Db, table: string): Promise<number> {
  const [row] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM (SELECT 1 FROM ${ident(table)} LIMIT ${LANE_MIN_ROWS}) s`);
  return Number(row?.n ?? 0);
}

/** Lanes as equal slices of time between the oldest row and the cutoff (the index answers min() at once). */
async function timestampLanes(db: Db, rule: RetentionRule, cutoff: string, n: number): Promise<StepPlan['lanes']> {
  if (n === 1) return [{ from: null, to: null }];
  const [row] = await db.query<{ lo: string | Date | null }>(`SELECT min(${ident(rule.timestampColumn)}) AS lo FROM ${ident(rule.table)}`);
  const lo = row?.lo ? new Date(row.lo).getTime() : NaN;
  const hi = Date.parse(cutoff);
  if (!Number.isFinite(lo) || lo >= hi) return [{ from: null, to: null }];
  const cuts = Array.from({ length: n - 1 }, (_, i) => new Date(lo + Math.floor(((hi - lo) * (i + 1)) / n)).toISOString());
  return slices(cuts);
}

/** Lanes as key ranges: arithmetic slices of an integer key, sampled quantiles of any other. */
async function keyLanes(db: Db, rule: RetentionRule, type: string, n: number, rows: number): Promise<StepPlan['lanes']> {
  if (n === 1) return [{ from: null, to: null }];
  const t = ident(rule.table);
  const k = ident(rule.primaryKey);
  let cuts: string[];
  if (INTEGER_TYPES.has(type)) {
    const [row] = await db.query<{ lo: string | null; hi: string | null }>(`SELECT min(${k})::text AS lo, max(${k})::text AS hi FROM ${t}`);
    if (row?.lo == null || row.hi == null) return [{ from: null, to: null }];
    const lo = BigInt(row.lo);
    const span = BigInt(row.hi) - lo;
    cuts = Array.from({ length: n - 1 }, (_, i) => (lo + (span * BigInt(i + 1)) / BigInt(n)).toString());
  } else {
    // A sample of about 50k keys places the boundaries well enough; small tables are read whole.
    const sample = rows > 200_000 ? ` TABLESAMPLE SYSTEM (${Math.max(0.01, Math.min(100, (50_000 / rows) * 100)).toFixed(4)})` : '';
    const fractions = Array.from({ length: n - 1 }, (_, i) => (i + 1) / n);
    const [row] = await db.query<{ cuts: string[] | null }>(
      `SELECT percentile_disc(?::float8[]) WITHIN GROUP (ORDER BY k)::text[] AS cuts FROM (SELECT ${k} AS k FROM ${t}${sample}) s`,
      [`{${fractions.join(',')}}`],
    );
    cuts = row?.cuts ?? [];
  }
  return slices([...new Set(cuts.filter((c) => c != null))]);
}

/** Boundaries b1 < b2 < ... into lanes (-inf, b1], (b1, b2], ..., (bn, +inf). */
function slices(cuts: string[]): StepPlan['lanes'] {
  const bounds = [null, ...cuts, null];
  return bounds.slice(1).map((to, i) => ({ from: bounds[i] ?? null, to }));
}

/** What PostgreSQL will do for the first batch of the first lane, for a dry run to show. */
export async function explainFirstBatch(db: Db, rule: RetentionRule, plan: StepPlan, cutoff: string, runTime: string): Promise<string> {
  const lane = plan.lanes[0]!;
  const walk: Walk = { strategy: plan.strategy, from: lane.from, to: lane.to, after: null };
  const built = buildWalkSql(rule, walk, await rowAddressOf(db, rule.table));
  const rows = await db.query<Record<string, string>>(
    `EXPLAIN ${built.sql}`,
    built.bind({ cutoff, limit: plan.chunk, from: lane.from, to: lane.to, after: null, runTime }),
  );
  return rows.map((r) => r['QUERY PLAN']).join('\n');
}

/**
 * What the fraction guard weighs for a step: the rows it would change and the rows of its table. Counted exactly on
 * tables under FRACTION_EXACT_BELOW_ROWS (a user table: a fraction of a second), where the planner's estimate of a
 * condition such as "unverified and old" can be far off; the planner's estimates on larger tables.
 */
export async function stepShare(db: Db, rule: RetentionRule, cutoff: string): Promise<StepShare> {
  const { rel } = await keyOf(db, rule);
  const step = rule.name ?? rule.table;
  const estimated = rel.reltuples >= 0 ? Math.round(rel.reltuples) : null;
  if (estimated !== null && estimated >= FRACTION_EXACT_BELOW_ROWS) {
    return { step, table: rule.table, matched: await estimatedMatches(db, rule, cutoff), tableRows: estimated, exact: false };
  }
  const built = buildMatchSql(rule);
  const [m] = await db.query<{ n: string }>(`SELECT count(*)::bigint AS n FROM (${built.sql}) m`, built.bind(cutoff));
  const [t] = await db.query<{ n: string }>(`SELECT count(*)::bigint AS n FROM ${ident(rule.table)}`);
  return { step, table: rule.table, matched: Number(m?.n ?? 0), tableRows: Number(t?.n ?? 0), exact: true };
}
