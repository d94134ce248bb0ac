import type { ChildRule, Condition, RetentionRule } from './types.js';
import { bindConditionValues, cutoffOperator, cutoffSql, cutoffValues, isRelationCondition, relationPredicate } from './relations.js';

import { ident } from './identifiers.js';
import { buildOwnersSql, cascadeCtes } from './cascade.js';

export interface ChildCte {
  name: string;
  /** Key of the count in results: the table, or `table.column (set null)` for set-null children. */
  label: string;
}

/** Column of `parent` each child references (the parent's key unless the rule says otherwise). */
function referencedColumns(children: ChildRule[] | undefined, parentKey: string): string[] {
  return [...new Set((children ?? []).map((c) => c.references ?? parentKey))];
}

type RenderChild = (child: ChildRule, parentCte: string, parentKey: string, cols: string) => string;

/**
 * Adds one CTE per child (depth first), each reaching the rows that reference the rows its parent CTE
 * selected. `render` says what the CTE does with them (delete, or just select for a count).
 */
function childCtes(children: ChildRule[] | undefined, parentCte: string, parentKey: string, out: string[], ctes: ChildCte[], render: RenderChild): void {
  for (const child of children ?? []) {
    const name = `c${ctes.length}`;
    const setNull = child.onDelete === 'set-null';
    ctes.push({ name, label: setNull ? `${child.table}.${child.foreignKey} (set null)` : child.table });
    const key = child.primaryKey ?? 'id';
    const cols = child.children?.length ? referencedColumns(child.children, key).map(ident).join(', ') : '1 AS one';
    out.push(`${name} AS ${render(child, parentCte, parentKey, cols)}`);
    // Rows that stay (set null) take no dependents with them.
    if (child.children?.length && !setNull) childCtes(child.children, name, key, out, ctes, render);
  }
}

/**
 * The child rows that reference the rows of `parentCte`. A batch's parents are few and the planner cannot know
 * how few (a CTE's estimate), so it sometimes scanned the whole child table per batch to hash-join a few hundred
 * rows; `= ANY(ARRAY(...))` is an index lookup per parent key. A count over every matching row keeps the join.
 */
function referencing(child: ChildRule, parentCte: string, parentKey: string, form: 'lookup' | 'join' = 'lookup'): string {
  const keys = `SELECT ${ident(child.references ?? parentKey)} FROM ${parentCte}`;
  return form === 'lookup' ? `${ident(child.foreignKey)} = ANY(ARRAY(${keys}))` : `${ident(child.foreignKey)} IN (${keys})`;
}

// Postgres checks NO ACTION foreign keys at the end of the statement, so parent and children can go in one statement.
const deleteChild: RenderChild = (child, parentCte, parentKey, cols) =>
  child.onDelete === 'set-null'
    ? `(UPDATE ${ident(child.table)} SET ${ident(child.foreignKey)} = NULL WHERE ${referencing(child, parentCte, parentKey)} RETURNING 1 AS one)`
    : `(DELETE FROM ${ident(child.table)} WHERE ${referencing(child, parentCte, parentKey)} RETURNING ${cols})`;
const selectChild: RenderChild = (child, parentCte, parentKey, cols) =>
  `MATERIALIZED (SELECT ${cols} FROM ${ident(child.table)} WHERE ${referencing(child, parentCte, parentKey, 'join')})`;

/**
 * The CTEs of a rule's dependents (depth first) for the rows of `victims`: deleted or set to NULL with them, or
 * only selected, for a count.
 */
export function dependentCtes(rule: RetentionRule, parts: string[], ctes: ChildCte[], form: 'delete' | 'select'): void {
  childCtes(rule.children, 'victims', rule.primaryKey, parts, ctes, form === 'delete' ? deleteChild : selectChild);
}

/** The columns a batch selects of its victims: the key, what dependents reference, and the timestamp when asked. */
export function victimColumns(rule: RetentionRule, withTimestamp = false): string {
  const cols = [rule.primaryKey, ...referencedColumns(rule.children, rule.primaryKey), ...(withTimestamp ? [rule.timestampColumn] : [])];
  return [...new Set(cols)].map(ident).join(', ');
}

/** One count column per dependent CTE, named after it. */
export function countColumns(ctes: ChildCte[]): string[] {
  return ctes.map((c) => `(SELECT count(*) FROM ${c.name})::int AS ${c.name}`);
}

/** SQL and bound values of the rule's extra conditions, each as ` AND <predicate>`. */
export function ruleConditions(where: Condition[] | undefined, rule: RetentionRule): { sql: string; values: unknown[] } {
  const parts: string[] = [];
  const values: unknown[] = [];
  for (const c of where ?? []) {
    if (isRelationCondition(c)) {
      const r = relationPredicate(c, rule);
      parts.push(r.sql);
      values.push(...r.values);
      continue;
    }
    const col = ident(c.column);
    switch (c.op) {
      case 'is_null':
        parts.push(`${col} IS NULL`);
        break;
      case 'is_not_null':
        parts.push(`${col} IS NOT NULL`);
        break;
      case 'not_all_true':
        parts.push(`NOT (${[c.column, ...c.also].map((x) => `${ident(x)} IS TRUE`).join(' AND ')})`);
        break;
      case 'is_true':
        parts.push(`${col} IS TRUE`);
        break;
      case 'is_false':
        parts.push(`${col} IS FALSE`);
        break;
      case 'eq':
        parts.push(`${col} = ?`);
        values.push(c.value);
        break;
      case 'ne':
        parts.push(`${col} IS DISTINCT FROM ?`);
        values.push(c.value);
        break;
      case 'in':
        // An empty list matches nothing rather than being a syntax error.
        if (c.values.length === 0) parts.push('FALSE');
        else {
          parts.push(`${col} IN (${c.values.map(() => '?').join(', ')})`);
          values.push(...c.values);
        }
        break;
    }
  }
  return { sql: parts.map((p) => ` AND ${p}`).join(''), values };
}

export interface BuiltSql {
  sql: string;
  /** Child CTE names and what each counts, in the order of the count columns. */
  children: ChildCte[];
  /** The bound values, in placeholder order. */
  bind(args: { cutoff: string; limit?: number; runTime?: string; after?: string }): unknown[];
}

/** Counts what a batch loop would affect, without locking or changing anything. */
export function buildCountSql(rule: RetentionRule): BuiltSql {
  const where = ruleConditions(rule.where, rule);
  const parts = [`victims AS MATERIALIZED (SELECT ${victimColumns(rule)} FROM ${ident(rule.table)} WHERE ${ident(rule.timestampColumn)} ${cutoffOperator(rule)} ${cutoffSql(rule)}${where.sql})`];
  const ctes: ChildCte[] = [];
  if ((rule.action ?? { type: 'delete' }).type === 'delete') {
    dependentCtes(rule, parts, ctes, 'select');
    cascadeCtes(rule, parts, ctes, 'select');
  }
  const sql = `WITH ${parts.join(',\n  ')}\nSELECT ${['(SELECT count(*) FROM victims)::int AS matched', ...countColumns(ctes)].join(', ')}`;
  return { sql, children: ctes, bind: ({ cutoff }) => [...cutoffValues(rule, cutoff), ...bindConditionValues(where.values, cutoff)] };
}

/** The dry run's owners of what the rule's cascade deletes (src/purge/cascade.ts), or undefined when it names none. */
export function buildCascadeOwnersSql(rule: RetentionRule, limit: number): { sql: string; labels: string[]; bind(cutoff: string): unknown[] } | undefined {
  const where = ruleConditions(rule.where, rule);
  const built = buildOwnersSql(rule, where, limit);
  return built && { sql: built.sql, labels: built.labels, bind: (cutoff) => built.bind(cutoff, bindConditionValues(where.values, cutoff)) };
}

/** The rows a rule matches, as a plain query (for the planner's estimate of how many there are). */
export function buildMatchSql(rule: RetentionRule): { sql: string; bind(cutoff: string): unknown[] } {
  const where = ruleConditions(rule.where, rule);
  return {
    sql: `SELECT 1 FROM ${ident(rule.table)} WHERE ${ident(rule.timestampColumn)} ${cutoffOperator(rule)} ${cutoffSql(rule)}${where.sql}`,
    bind: (cutoff) => [...cutoffValues(rule, cutoff), ...bindConditionValues(where.values, cutoff)],
  };
}

/** Folds per-CTE counts into per-table counts (a table reached twice is summed). */
export function childCounts(row: Record<string, unknown>, ctes: ChildCte[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of ctes) out[c.label] = (out[c.label] ?? 0) + Number(row[c.name] ?? 0);
  return out;
}

/** Where a lane's walk stands; `null` fields: from the lane's start. */
export interface WalkPosition {
  /** The last key the walk passed (key chunks), or the key of the last row taken (timestamp walk). */
  key: string | null;
  /** The timestamp of the last row taken (timestamp walk only). */
  ts?: string | null;
}

/** How one batch finds its rows: which order it walks the table in and the lane's bounds. */
export interface Walk {
  strategy: 'timestamp-index' | 'key-chunks';
  /** Key chunks: keys in (from, to]; timestamp walk: timestamps in [from, to). `null`: unbounded. */
  from: string | null;
  to: string | null;
  after: WalkPosition | null;
}

/**
 * How a batch reaches the rows it locked to change them: by their physical address (`ctid`), one heap visit per row,
 * where that is unique (a plain table), or by key through the key's index (a partitioned or inherited table, where
 * two rows can share a ctid).
 */
export type RowAddress = 'ctid' | 'key';

/**
 * One batch of a planned walk, as one statement. Both walks cost in proportion to the batch, never to the
 * table:
 * - `key-chunks` takes the next `limit` keys of the lane in key order (the primary key's index) and deletes
 *   those rows of the chunk that the rule matches. One pass over the table in all, whatever indexes exist.
 * - `timestamp-index` takes the next `limit` matching rows in (timestamp, key) order from where the previous
 *   batch stopped, walking an index that leads with the timestamp.
 * Rows that other transactions hold are skipped (SKIP LOCKED) and counted, so the caller can come back for them.
 * The rule is tested again on the row as locked (a concurrent update may have changed it): a row is changed only
 * if it matches when it is changed. A candidate the batch did not change (locked, or changed meanwhile) counts as
 * skipped, and the lane comes back for it.
 */
export function buildWalkSql(rule: RetentionRule, walk: Walk, address: RowAddress = 'key', opts: { capped?: boolean } = {}): BuiltWalkSql {
  const t = ident(rule.table);
  const pk = ident(rule.primaryKey);
  const ts = ident(rule.timestampColumn);
  const where = ruleConditions(rule.where, rule);
  const byTid = address === 'ctid';
  // Fragments are built out of text order; each value gets a marker, and the markers are turned into `?` (and
  // the values ordered) once the statement is complete.
  const getters: Array<(a: WalkArgs) => unknown> = [];
  const bound = (get: (a: WalkArgs) => unknown) => {
    getters.push(get);
    return `\u0000${getters.length - 1}\u0000`;
  };
  const parts: string[] = [];
  // The rule's test; each use binds its own copies of the condition values.
  const match = () => {
    let i = 0;
    return `${ts} ${cutoffOperator(rule)} ${cutoffSql(rule, (i) => bound((a) => cutoffValues(rule, a.cutoff)[i]))}${where.sql.replace(/\?/g, () => {
      const v = where.values[i++];
      return bound((a) => bindConditionValues([v], a.cutoff)[0]);
    })}`;
  };
  const tid = byTid ? ', ctid AS tid' : '';
  if (walk.strategy === 'key-chunks') {
    // Each use binds its own copy of the lower bound.
    const lower = () => (walk.after?.key != null ? [`${pk} > ${bound((a) => a.after?.key)}`] : walk.from != null ? [`${pk} > ${bound((a) => a.from)}`] : []);
    const chunkWhere = [...lower(), ...(walk.to != null ? [`${pk} <= ${bound((a) => a.to)}`] : [])];
    // The chunk's rows are read once, along the key's index, and the rule tested on them there: only the key, the
    // row's address and the answer are kept, not the rows (a token's text is most of its row).
    parts.push(`chunk AS MATERIALIZED (SELECT ${pk}${tid}, (${match()}) AS hit FROM ${t}${chunkWhere.length ? ` WHERE ${chunkWhere.join(' AND ')}` : ''} ORDER BY ${pk} LIMIT ${bound((a) => a.limit)})`);
    if (opts.capped) {
      // A run's row cap (maxRows): the chunk's first `cap` matching rows only; the batch ends at the last of them, so
      // the lane goes on right after it and the rows beyond are the next batch's (or the next run's).
      parts.push(`candidates AS MATERIALIZED (SELECT ${pk}${byTid ? ', tid' : ''} FROM chunk WHERE hit ORDER BY ${pk} LIMIT ${bound((a) => a.cap)})`);
      parts.push(
        `bounds AS (SELECT count(*)::int AS examined, CASE WHEN (SELECT count(*) FROM candidates) >= ${bound((a) => a.cap)} ` +
          `THEN (SELECT ${pk} FROM candidates ORDER BY ${pk} DESC LIMIT 1) ELSE (SELECT ${pk} FROM chunk ORDER BY ${pk} DESC LIMIT 1) END AS last FROM chunk)`,
      );
    } else {
      // ORDER BY, not max(): uuid has no max() aggregate.
      parts.push(`bounds AS (SELECT count(*)::int AS examined, (SELECT ${pk} FROM chunk ORDER BY ${pk} DESC LIMIT 1) AS last FROM chunk)`);
      parts.push(`candidates AS (SELECT ${pk}${byTid ? ', tid' : ''} FROM chunk WHERE hit)`);
    }
    const inChunk = [...lower(), `${pk} <= (SELECT last FROM bounds)`].join(' AND ');
    parts.push(
      byTid
        ? `victims AS (SELECT ${victimColumns(rule)}, ctid AS tid FROM ${t} WHERE ctid = ANY(ARRAY(SELECT tid FROM candidates)) AND ${inChunk} AND ${match()} FOR UPDATE SKIP LOCKED)`
        : `victims AS (SELECT ${victimColumns(rule)} FROM ${t} WHERE ${inChunk} AND ${match()} FOR UPDATE SKIP LOCKED)`,
    );
  } else {
    const lane = [...(walk.from != null ? [`${ts} >= ${bound((a) => a.from)}`] : []), ...(walk.to != null ? [`${ts} < ${bound((a) => a.to)}`] : [])];
    const keyset =
      walk.after?.ts != null
        ? [`${ts} >= ${bound((a) => a.after?.ts)}`, `(${ts} > ${bound((a) => a.after?.ts)} OR ${pk} > ${bound((a) => a.after?.key)})`]
        : [];
    // Under a row cap, no more rows than it allows: the walk goes on after the last one taken.
    const limit = opts.capped ? `least(${bound((a) => a.limit)}::int, ${bound((a) => a.cap)}::int)` : bound((a) => a.limit);
    parts.push(`candidates AS MATERIALIZED (SELECT ${pk}, ${ts} AS ts${tid} FROM ${t} WHERE ${[match(), ...lane, ...keyset].join(' AND ')} ORDER BY ${ts}, ${pk} LIMIT ${limit})`);
    parts.push(`bounds AS (SELECT count(*)::int AS examined, (SELECT ${pk} FROM candidates ORDER BY ts DESC, ${pk} DESC LIMIT 1) AS last, max(ts) AS last_ts FROM candidates)`);
    parts.push(
      byTid
        ? `victims AS (SELECT ${victimColumns(rule)}, ctid AS tid FROM ${t} WHERE ctid = ANY(ARRAY(SELECT tid FROM candidates)) AND ${match()} FOR UPDATE SKIP LOCKED)`
        : `victims AS (SELECT ${victimColumns(rule)} FROM ${t} WHERE ${pk} IN (SELECT ${pk} FROM candidates) AND ${match()} FOR UPDATE SKIP LOCKED)`,
    );
  }
  // The rows locked above, and only those: by address (the row version locked; nobody can change it before this
  // transaction ends), or by key.
  const locked = byTid ? `ctid = ANY(ARRAY(SELECT tid FROM victims))` : `${pk} IN (SELECT ${pk} FROM victims)`;
  const ctes: ChildCte[] = [];
  const action = rule.action ?? { type: 'delete' };
  if (action.type === 'delete') {
    dependentCtes(rule, parts, ctes, 'delete');
    cascadeCtes(rule, parts, ctes, 'delete');
    parts.push(`parent AS (DELETE FROM ${t} WHERE ${locked} RETURNING 1 AS one)`);
  } else {
    const entries = Object.entries(action.set);
    const assignments = entries.map(([col, v]) => `${ident(col)} = ${bound((a) => (v !== null && typeof v === 'object' ? (a.runTime ?? a.cutoff) : v))}`).join(', ');
    parts.push(`parent AS (UPDATE ${t} SET ${assignments} WHERE ${locked} RETURNING 1 AS one)`);
  }
  const lastTs = walk.strategy === 'timestamp-index' ? '(SELECT last_ts FROM bounds)' : 'NULL::timestamptz';
  const sql =
    `WITH ${parts.join(',\n  ')}\nSELECT ` +
    [
      '(SELECT count(*) FROM parent)::int AS affected',
      '(SELECT examined FROM bounds) AS examined',
      '((SELECT count(*) FROM candidates) - (SELECT count(*) FROM parent))::int AS skipped',
      '(SELECT last FROM bounds)::text AS last_key',
      `${lastTs} AS last_ts`,
      ...countColumns(ctes),
    ].join(', ');
  const order: number[] = [];
  const text = sql.replace(/\u0000(\d+)\u0000/g, (_, i: string) => {
    order.push(Number(i));
    return '?';
  });
  return { sql: text, children: ctes, bind: (args) => order.map((i) => getters[i]!(args)) };
}

export interface WalkArgs {
  cutoff: string;
  limit: number;
  from: string | null;
  to: string | null;
  after: WalkPosition | null;
  runTime?: string;
  /** The most rows the batch may change (a statement built `capped`). */
  cap?: number;
}

export interface BuiltWalkSql {
  sql: string;
  children: ChildCte[];
  bind(args: WalkArgs): unknown[];
}
