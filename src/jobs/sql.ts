import type { ChildRule, RetentionRule } from './types.js';

const IDENT = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Quotes an identifier from a rule; anything but a plain identifier is refused, never escaped. */
export function ident(name: string): string {
  if (!IDENT.test(name)) throw new Error(`not a plain SQL identifier: ${JSON.stringify(name)}`);
  return `"${name}"`;
}

interface ChildCte {
  name: string;
  table: string;
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
    ctes.push({ name, table: child.table });
    const key = child.primaryKey ?? 'id';
    const cols = child.children?.length ? referencedColumns(child.children, key).map(ident).join(', ') : '1 AS one';
    out.push(`${name} AS ${render(child, parentCte, parentKey, cols)}`);
    if (child.children?.length) childCtes(child.children, name, key, out, ctes, render);
  }
}

function referencing(child: ChildRule, parentCte: string, parentKey: string): string {
  return `${ident(child.foreignKey)} IN (SELECT ${ident(child.references ?? parentKey)} FROM ${parentCte})`;
}

// Postgres checks NO ACTION foreign keys at the end of the statement, so parent and children can go in one statement.
const deleteChild: RenderChild = (child, parentCte, parentKey, cols) =>
  `(DELETE FROM ${ident(child.table)} WHERE ${referencing(child, parentCte, parentKey)} RETURNING ${cols})`;
const selectChild: RenderChild = (child, parentCte, parentKey, cols) =>
  `MATERIALIZED (SELECT ${cols} FROM ${ident(child.table)} WHERE ${referencing(child, parentCte, parentKey)})`;

function victimColumns(rule: RetentionRule): string {
  return [...new Set([rule.primaryKey, ...referencedColumns(rule.children, rule.primaryKey)])].map(ident).join(', ');
}

function countColumns(ctes: ChildCte[]): string[] {
  return ctes.map((c) => `(SELECT count(*) FROM ${c.name})::int AS ${c.name}`);
}

export interface BuiltSql {
  sql: string;
  /** Child CTE names and the table each deletes from, in the order of the count columns. */
  children: ChildCte[];
}

/**
 * One batch as one statement: lock up to `limit` matching rows by primary key (skipping rows other
 * transactions hold), delete their dependents, delete them, and return the counts.
 * Parameters: 1 = cutoff, 2 = limit.
 */
export function buildBatchSql(rule: RetentionRule): BuiltSql {
  const t = ident(rule.table);
  const pk = ident(rule.primaryKey);
  const ts = ident(rule.timestampColumn);
  const parts = [`victims AS (SELECT ${victimColumns(rule)} FROM ${t} WHERE ${ts} < ? ORDER BY ${ts}, ${pk} LIMIT ? FOR UPDATE SKIP LOCKED)`];
  const ctes: ChildCte[] = [];
  childCtes(rule.children, 'victims', rule.primaryKey, parts, ctes, deleteChild);
  parts.push(`parent AS (DELETE FROM ${t} WHERE ${pk} IN (SELECT ${pk} FROM victims) RETURNING 1 AS one)`);
  const sql = `WITH ${parts.join(',\n  ')}\nSELECT ${['(SELECT count(*) FROM parent)::int AS deleted', ...countColumns(ctes)].join(', ')}`;
  return { sql, children: ctes };
}

/** Counts what a batch loop would delete, without locking or deleting. Parameter: 1 = cutoff. */
export function buildCountSql(rule: RetentionRule): BuiltSql {
  const parts = [`victims AS MATERIALIZED (SELECT ${victimColumns(rule)} FROM ${ident(rule.table)} WHERE ${ident(rule.timestampColumn)} < ?)`];
  const ctes: ChildCte[] = [];
  childCtes(rule.children, 'victims', rule.primaryKey, parts, ctes, selectChild);
  const sql = `WITH ${parts.join(',\n  ')}\nSELECT ${['(SELECT count(*) FROM victims)::int AS matched', ...countColumns(ctes)].join(', ')}`;
  return { sql, children: ctes };
}

/** Folds per-CTE counts into per-table counts (a table reached twice is summed). */
export function childCounts(row: Record<string, unknown>, ctes: ChildCte[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of ctes) out[c.table] = (out[c.table] ?? 0) + Number(row[c.name] ?? 0);
  return out;
}
